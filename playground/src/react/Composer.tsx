import { useState, type FormEvent } from 'react';
import { SUGGESTIONS } from '../shared/view';

interface Props {
  streaming: boolean;
  empty: boolean;
  send(text: string): Promise<unknown>;
  steer(text: string): Promise<unknown>;
  stop(): Promise<unknown>;
}

/** The prompt input, and while an answer streams: Stop and a steer input. */
export function Composer({ streaming, empty, send, steer, stop }: Props) {
  const [prompt, setPrompt] = useState('');
  const [steerText, setSteerText] = useState('');
  const [error, setError] = useState('');
  const run = (action: Promise<unknown>): void => {
    setError('');
    action.catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (!prompt.trim()) return;
    run(send(prompt.trim()));
    setPrompt('');
  };
  const submitSteer = (e: FormEvent): void => {
    e.preventDefault();
    if (!steerText.trim()) return;
    run(steer(steerText.trim()));
    setSteerText('');
  };
  return (
    <footer className="composer">
      {empty && (
        <div className="suggestions">
          {SUGGESTIONS.map((s) => (
            <button key={s} type="button" className="suggestion" onClick={() => run(send(s))}>
              {s}
            </button>
          ))}
        </div>
      )}
      {streaming && (
        <form className="steer-row" onSubmit={submitSteer}>
          <input value={steerText} onChange={(e) => setSteerText(e.target.value)} placeholder="Steer the answer, e.g. “focus on mobile networks”" aria-label="Steer the answer" data-testid="steer-input" />
          <button type="submit" className="secondary" data-testid="steer">
            Steer
          </button>
          <button type="button" className="stop" onClick={() => run(stop())} data-testid="stop">
            Stop
          </button>
        </form>
      )}
      <form className="prompt-row" onSubmit={submit}>
        <input value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder="Ask something… (try “compare SSE and WebSockets”)" aria-label="Prompt" data-testid="prompt-input" />
        <button type="submit" data-testid="send">
          Send
        </button>
      </form>
      {error && (
        <p className="action-error" role="alert" data-testid="action-error">
          {error}
        </p>
      )}
    </footer>
  );
}
