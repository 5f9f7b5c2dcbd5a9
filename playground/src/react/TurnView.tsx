import type { Turn } from '@durable-session/core';
import { answersOf, isMultiAgent, steerStateText, turnStatusText } from '../shared/view';
import { Markdown } from './Markdown';

/** One prompt and its answer(s): one column per agent when several agents write into the turn. */
export function TurnView({ turn, answer }: { turn: Turn; answer: (askId: string, choice: string) => void }) {
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
      {turn.questions.map((q) => (
        <div key={q.askId} className={`question question-${q.state}`} data-testid="question" data-state={q.state} data-ask-id={q.askId}>
          <span className="question-text">{q.question}</span>
          {q.state === 'open' ? (
            q.options.map((option) => (
              <button key={option} type="button" data-testid="answer-option" onClick={() => answer(q.askId, option)}>
                {option}
              </button>
            ))
          ) : (
            <span className="question-outcome" data-testid="question-outcome">
              {q.state === 'answered' ? `${q.choice} (by ${q.answeredBy})` : `closed: ${q.reason}`}
            </span>
          )}
        </div>
      ))}
      {turn.steerStates.length > 0 && (
        <ul className="steers">
          {turn.steerStates.map((steer) => (
            <li key={steer.steerId} data-testid="steer-note" data-state={steer.state}>
              Steered: {steer.text} <span className={`steer-state steer-${steer.state}`}>{steerStateText(steer)}</span>
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
