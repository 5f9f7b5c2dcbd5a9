import type { AnswerEvent, CancelEvent, SteerEvent, TurnEndReason } from '@durable-session/core';
import { answerProducer } from './answers';
import { retryStoreFailures } from './store-retry';
import { AsyncQueue } from './async-queue';
import { SessionServerError } from './errors';
import { utf8 } from './protocol/responses';
import type { SessionStore } from './store';
import { QuestionWaiters, type AskOptions } from './turn-questions';
import { isSdkEvent, problemWithEvent } from './validate-events';

/**
 * What an agent writes one turn with. Every write is appended to the session (in call
 * order) and resolves once the store acknowledged it.
 * @example
 * const turn = await host.session('chat-1').startTurn({ agentId: 'writer' });
 * for (const word of ['Hello', ' world']) {
 *   if (turn.signal.aborted) break;
 *   await turn.write(word);
 * }
 * await turn.end(turn.signal.aborted ? 'cancelled' : 'complete');
 */
export interface TurnWriter {
  readonly sessionId: string;
  readonly turnId: string;
  readonly agentId: string;
  /**
   * Aborts when a `cancel` for this turn (or for `"*"`) is appended to the session by
   * anyone, on any node. A client disconnecting never aborts it.
   */
  readonly signal: AbortSignal;
  /**
   * The `steer` events for this turn, as they arrive; ends when the turn ends. Taking one writes
   * its `steer.ack` `received`; steers never taken are acked `rejected` (`not-taken`) at the end.
   */
  readonly steers: AsyncIterable<SteerEvent>;
  /** Say what became of a steer taken from `steers`: `applied`, or `rejected` (with a reason). */
  acknowledgeSteer(steerId: string, state: 'applied' | 'rejected', reason?: string): Promise<void>;
  /**
   * Ask the people watching a question and wait for the first valid answer (the chosen option).
   * Rejects with `turn-ended` when the turn is cancelled or ends meanwhile, `timeout` after
   * `timeoutMs` (the question is then closed for everyone), `bad-request` for bad options.
   */
  ask(options: AskOptions): Promise<string>;
  /** Whether `end` was called. */
  readonly ended: boolean;
  /** Append a `delta` with `text`. Rejects with `turn-ended` after `end`. */
  write(text: string): Promise<void>;
  /** Append an application event `{ ...data, type, turnId, agentId }` (not one of the SDK's types, `fetch.chunk` aside). */
  emit(type: string, data?: Record<string, unknown>): Promise<void>;
  /** Append `turn.end` (after every pending write). Idempotent: later calls return the first call's promise. */
  end(reason?: TurnEndReason, error?: string): Promise<void>;
}

/** Internal handle of a turn: the host drives its signal and steers. */
export interface TurnControl extends TurnWriter {
  /** Where the turn began in the log: a `"*"` cancel after this offset applies to it. */
  readonly origin: string;
  /** Append `turn.start` and claim the turn (fails with `conflict` when another writer did). */
  start(): Promise<void>;
  cancel(reason: unknown): void;
  pushSteer(event: SteerEvent): void;
  /** An `answer` read from the session. */
  pushAnswer(event: AnswerEvent): void;
  /** Whether a cancel event applies to this turn. */
  isCancelledBy(event: CancelEvent, offset: string): boolean;
}

interface TurnOptions {
  store: SessionStore;
  sessionId: string;
  turnId: string;
  agentId: string;
  origin: string;
  onEnd: () => void;
}

/**
 * The idempotent producer of one agent's writes in one turn. It lives in the server's
 * reserved namespace (`__`), which clients are refused from, so no client can fence it or
 * make its writes be dropped as duplicates.
 * @example
 * turnProducerId('t1', 'demo'); // '__turn/t1/demo'
 */
export function turnProducerId(turnId: string, agentId: string): string {
  return `__turn/${turnId}/${agentId}`;
}

/**
 * Create a turn writer. Appends use an idempotent producer per `(turn, agent)`, so a
 * retried append is written once, and a second writer of the same turn (another node
 * answering the same prompt) loses the claim on `turn.start`.
 */
export function createTurn(options: TurnOptions): TurnControl {
  return new Turn(options);
}

class Turn implements TurnControl {
  readonly sessionId: string;
  readonly turnId: string;
  readonly agentId: string;
  readonly origin: string;
  readonly #store: SessionStore;
  readonly #onEnd: () => void;
  readonly #controller = new AbortController();
  readonly #steers = new AsyncQueue<SteerEvent>();
  readonly #producerId: string;
  readonly #questions = new QuestionWaiters();
  /** Steers pushed to the agent and not taken yet (their ids). */
  readonly #untaken = new Set<string>();
  #queue: Promise<void> = Promise.resolve();
  #epoch = 0;
  #seq = 0;
  #ending: Promise<void> | undefined;

  constructor(options: TurnOptions) {
    this.sessionId = options.sessionId;
    this.turnId = options.turnId;
    this.agentId = options.agentId;
    this.origin = options.origin;
    this.#store = options.store;
    this.#onEnd = options.onEnd;
    this.#producerId = turnProducerId(options.turnId, options.agentId);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get steers(): AsyncIterable<SteerEvent> {
    return { [Symbol.asyncIterator]: () => this.#takeSteers() };
  }

  async *#takeSteers(): AsyncGenerator<SteerEvent, void, undefined> {
    for await (const steer of this.#steers) {
      if (steer.steerId !== undefined && this.#untaken.delete(steer.steerId)) {
        await this.#ack(steer.steerId, 'received').catch(() => undefined); // the turn ended meanwhile
      }
      yield steer;
    }
  }

  acknowledgeSteer(steerId: string, state: 'applied' | 'rejected', reason?: string): Promise<void> {
    if (state !== 'applied' && state !== 'rejected') return Promise.reject(new SessionServerError('bad-request', 'a steer is applied or rejected'));
    return this.#ack(steerId, state, reason);
  }

  #ack(steerId: string, state: 'received' | 'applied' | 'rejected', reason?: string): Promise<void> {
    const event: Record<string, unknown> = { type: 'steer.ack', turnId: this.turnId, agentId: this.agentId, steerId, state };
    if (reason !== undefined) event.reason = reason;
    const problem = problemWithEvent(event);
    return problem === undefined ? this.#write(event) : Promise.reject(new SessionServerError('bad-request', problem));
  }

  async ask(options: AskOptions): Promise<string> {
    const askId = options.askId ?? globalThis.crypto.randomUUID();
    const event: Record<string, unknown> = { type: 'ask', turnId: this.turnId, agentId: this.agentId, askId, question: options.question, options: options.options };
    if (options.timeoutMs !== undefined) event.expiresAt = Date.now() + options.timeoutMs;
    const problem = problemWithEvent(event);
    if (problem !== undefined) throw new SessionServerError('bad-request', problem);
    if (this.#ending !== undefined || this.signal.aborted) throw new SessionServerError('turn-ended', `turn ${this.turnId} has ended`);
    const answer = this.#questions.wait(askId, options.options);
    this.#write(event).catch((error: unknown) => this.#questions.fail(askId, error));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => void this.#closeQuestion(askId), options.timeoutMs);
    try {
      return await answer;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The timeout passed: close the question for everyone, unless an answer won the race. */
  async #closeQuestion(askId: string): Promise<void> {
    const event = { type: 'ask.closed', turnId: this.turnId, agentId: this.agentId, askId, reason: 'timeout' };
    try {
      const outcome = await this.#store.append(this.sessionId, { entries: [utf8(JSON.stringify(event))], contentType: 'application/json', producer: answerProducer(askId) });
      // `duplicate`: an answer landed first; the host delivers it.
      if (outcome.status !== 'duplicate') this.#questions.fail(askId, new SessionServerError('timeout', `nobody answered question ${askId} in time`));
    } catch (error) {
      this.#questions.fail(askId, error);
    }
  }

  pushAnswer(event: AnswerEvent): void {
    this.#questions.answer(event);
  }

  get ended(): boolean {
    return this.#ending !== undefined;
  }

  start(): Promise<void> {
    return this.#enqueue({ type: 'turn.start', turnId: this.turnId, agentId: this.agentId }, true);
  }

  write(text: string): Promise<void> {
    if (typeof text !== 'string') return Promise.reject(new SessionServerError('bad-request', 'write(text) needs a string'));
    return this.#write({ type: 'delta', turnId: this.turnId, agentId: this.agentId, text });
  }

  emit(type: string, data: Record<string, unknown> = {}): Promise<void> {
    const event = { ...data, type, turnId: this.turnId, agentId: this.agentId };
    // `fetch.chunk` is an agent event like `delta` (durableResponse writes it); the others have their own methods.
    if (typeof type !== 'string' || type === '' || (isSdkEvent(event) && type !== 'fetch.chunk')) {
      return Promise.reject(new SessionServerError('bad-request', `emit() is for application events, not ${JSON.stringify(type)}`));
    }
    return this.#write(event);
  }

  end(reason: TurnEndReason = 'complete', error?: string): Promise<void> {
    if (this.#ending !== undefined) return this.#ending;
    this.#steers.close();
    for (const steerId of this.#untaken) void this.#ack(steerId, 'rejected', 'not-taken').catch(() => undefined);
    this.#untaken.clear();
    this.#questions.failAll(new SessionServerError('turn-ended', `turn ${this.turnId} has ended`));
    const event: Record<string, unknown> = { type: 'turn.end', turnId: this.turnId, agentId: this.agentId, reason };
    if (error !== undefined) event.error = error;
    this.#ending = this.#enqueue(event, false).finally(this.#onEnd);
    return this.#ending;
  }

  cancel(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
    this.#questions.failAll(new SessionServerError('turn-ended', `turn ${this.turnId} was cancelled`));
  }

  pushSteer(event: SteerEvent): void {
    if (this.#steers.closed) return;
    if (event.steerId !== undefined) this.#untaken.add(event.steerId);
    this.#steers.push(event);
  }

  isCancelledBy(event: CancelEvent, offset: string): boolean {
    return event.turnId === this.turnId || (event.turnId === '*' && offset > this.origin);
  }

  #write(event: Record<string, unknown>): Promise<void> {
    if (this.#ending !== undefined) {
      return Promise.reject(new SessionServerError('turn-ended', `turn ${this.turnId} has ended`));
    }
    return this.#enqueue(event, false);
  }

  /** Append after every earlier write, whatever became of it (each caller sees its own result). */
  #enqueue(event: Record<string, unknown>, claim: boolean): Promise<void> {
    const run = this.#queue.then(() => this.#append(event, claim));
    this.#queue = run.catch(() => undefined); // the failure is delivered to the caller through `run`
    return run;
  }

  async #append(event: Record<string, unknown>, claim: boolean): Promise<void> {
    const producer = { id: this.#producerId, epoch: this.#epoch, seq: this.#seq };
    const entries = [utf8(JSON.stringify(event))];
    try {
      // A store failure: retry with the same seq, deduplicated if it was written.
      await retryStoreFailures(async (attempt) => {
        const outcome = await this.#store.append(this.sessionId, { entries, contentType: 'application/json', producer });
        this.#check(outcome.status, claim && attempt === 0);
      });
      this.#seq++;
    } catch (error) {
      this.#fence();
      throw error;
    }
  }

  /**
   * After a failed append, whether it was stored is unknown (a reply lost after the store
   * committed it): its seq must not be reused, or the next event would be taken for its
   * retry, judged a duplicate and never stored. Continue in a new epoch from seq 0, which
   * the store accepts whatever became of the failed append (and which fences it off, should
   * it still arrive).
   */
  #fence(): void {
    this.#epoch++;
    this.#seq = 0;
  }

  #check(status: string, claim: boolean): void {
    switch (status) {
      case 'appended':
        return;
      case 'duplicate':
        // On a first attempt, another writer holds the turn; on a retry it is our own earlier attempt.
        if (claim) throw new SessionServerError('conflict', `turn ${this.turnId} of agent ${this.agentId} was already started by another writer`);
        return; // our own retry
      case 'closed':
        throw new SessionServerError('stream-closed', `session ${this.sessionId} is closed`);
      case 'not-found':
        throw new SessionServerError('not-found', `no session ${this.sessionId}`);
      case 'gone':
        throw new SessionServerError('gone', `session ${this.sessionId} was deleted`);
      default:
        throw new SessionServerError('conflict', `append to session ${this.sessionId} refused: ${status}`);
    }
  }
}
