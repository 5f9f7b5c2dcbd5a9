import type { Turn } from '@durable-session/core';
import { answersOf, isMultiAgent, turnStatusText } from '../shared/view';
import { Markdown } from './Markdown';

/** One prompt and its answer(s): one column per agent when several agents write into the turn. */
export function TurnView({ turn }: { turn: Turn }) {
  const answers = answersOf(turn);
  const multi = isMultiAgent(turn);
  return (
    <article className={`turn turn-${turn.status}`} data-testid="turn" data-turn-id={turn.turnId} data-status={turn.status}>
      <div className="prompt" data-testid="prompt">
        {turn.prompt ?? '…'}
      </div>
      <div className={multi ? 'answers answers-multi' : 'answers'}>
        {answers.length === 0 && turn.status === 'streaming' && <div className="thinking">thinking…</div>}
        {answers.map((answer) => (
          <section key={answer.agentId} className={`answer answer-${answer.status}`} data-testid="answer" data-agent={answer.agentId}>
            {multi && (
              <header className="agent-name">
                {answer.label} <span className="agent-status">{answer.status}</span>
              </header>
            )}
            <div className="markdown" data-testid="answer-text">
              <Markdown text={answer.text} />
            </div>
          </section>
        ))}
      </div>
      {turn.steers.length > 0 && (
        <ul className="steers">
          {turn.steers.map((steer, i) => (
            <li key={i} data-testid="steer-note">
              Steered: {steer}
            </li>
          ))}
        </ul>
      )}
      <footer className="turn-meta">
        <span className={`chip chip-${turn.status}`} data-testid="turn-status">
          {turnStatusText(turn)}
        </span>
      </footer>
    </article>
  );
}
