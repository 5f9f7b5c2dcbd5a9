import type { AnswerEvent } from '@durable-session/core';
import { SessionServerError } from './errors';

/**
 * Options of `turn.ask`.
 * @example
 * const choice = await turn.ask({ question: 'Send the email?', options: ['send', 'cancel'], timeoutMs: 60_000 });
 */
export interface AskOptions {
  question: string;
  /** 1 to 20 distinct non-empty choices. */
  options: string[];
  /** Stop waiting after this long: the question closes (`ask.closed`, reason `timeout`) and `ask` rejects with `timeout`. */
  timeoutMs?: number;
  /** Default: a random UUID. */
  askId?: string;
}

interface Waiter {
  options: readonly string[];
  resolve(choice: string): void;
  reject(error: unknown): void;
}

/** Most questions one turn waits on at once. */
export const MAX_OPEN_QUESTIONS = 16;

/**
 * The questions a turn waits on: each settles once, with the first valid answer the host
 * delivers, or with an error (timeout, cancel, end of the turn).
 */
export class QuestionWaiters {
  readonly #waiters = new Map<string, Waiter>();

  /** Register a question before its `ask` is written (so no answer can be missed). */
  wait(askId: string, options: readonly string[]): Promise<string> {
    if (this.#waiters.has(askId)) return Promise.reject(new SessionServerError('bad-request', `question ${askId} is already asked`));
    if (this.#waiters.size >= MAX_OPEN_QUESTIONS) {
      return Promise.reject(new SessionServerError('bad-request', `a turn waits on at most ${MAX_OPEN_QUESTIONS} questions at once`));
    }
    return new Promise<string>((resolve, reject) => this.#waiters.set(askId, { options, resolve, reject }));
  }

  /** An answer read from the session: settles its question if it is open and the choice valid. */
  answer(event: AnswerEvent): void {
    const waiter = this.#waiters.get(event.askId);
    if (waiter === undefined || !waiter.options.includes(event.choice)) return;
    this.#waiters.delete(event.askId);
    waiter.resolve(event.choice);
  }

  /** Settle one question with an error (its timeout, a failed `ask` append). */
  fail(askId: string, error: unknown): void {
    const waiter = this.#waiters.get(askId);
    this.#waiters.delete(askId);
    waiter?.reject(error);
  }

  /** Settle every open question with an error (the turn was cancelled or ended). */
  failAll(error: unknown): void {
    for (const askId of [...this.#waiters.keys()]) this.fail(askId, error);
  }
}
