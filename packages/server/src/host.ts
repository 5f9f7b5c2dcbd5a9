import type { CancelEvent, PromptEvent, SessionEvent, SteerEvent } from '@durable-session/core';
import { reportToConsole } from './report';
import { retryStoreFailures } from './store-retry';
import { SessionServerError } from './errors';
import { follow } from './follow';
import { TurnLeases } from './lease';
import { utf8 } from './protocol/responses';
import { ensureSession, openSessionHandle, type SessionHandle } from './session-handle';
import { SnapshotKeeper } from './snapshot-keeper';
import { compactSessionIndex, indexAppend, sessionsOf } from './session-index';
import type { SessionStore, StoredEntry } from './store';
import { createTurn, turnProducerId, type TurnControl, type TurnWriter } from './turn';
import { isSdkEvent, problemWithEvent } from './validate-events';

/**
 * What an `onPrompt` handler receives: the session, the prompt, and the turn already
 * started for it (`turn.start` written).
 * @example
 * host.onPrompt(async ({ session, prompt, turn }) => {
 *   await turn.write(`${session.id}: ${prompt.text}`);
 * });
 */
export interface PromptContext {
  session: SessionHandle;
  prompt: PromptEvent;
  turn: TurnWriter;
}

/**
 * An agent: answers one prompt by writing into `turn`. When it returns the turn ends
 * `complete`; when it throws, `error`; when `turn.signal` aborts, `cancelled` at once
 * (later writes reject with `turn-ended`).
 * @example
 * const echo: PromptHandler = async ({ prompt, turn }) => { await turn.write(`You said: ${prompt.text}`); };
 */
export type PromptHandler = (context: PromptContext) => unknown;

/**
 * Options of {@link createSessionHost}.
 * @example
 * createSessionHost({ store: memoryStore(), onError: (e) => log.error(e) });
 */
export interface SessionHostOptions {
  store: SessionStore;
  /** Background failures (store errors, agents that threw). Default `console.error`. */
  onError?: (error: unknown) => void;
  /** Id of the internal stream listing sessions, read by every node's host. Default `__sessions`. */
  indexStreamId?: string;
  /** How long `close()` waits for running agents to wind down. Default 5000 ms. */
  closeTimeoutMs?: number;
  /**
   * The lease of a running turn, in whole seconds: the node running it renews it in the store
   * every third of that; when its node dies, another node watching the session ends the turn
   * `error` within about 4/3 of it. Default 6.
   */
  turnLeaseSeconds?: number;
  /** This node's name in the turn leases it holds. Default: a random id. */
  nodeId?: string;
  /**
   * Most turns `onPrompt` handlers run at once per session on this node. A prompt past it is
   * not answered: its turn is ended `error` at once (no agent runs). Default 4.
   */
  maxConcurrentTurns?: number;
}

/**
 * The agent side of the server. Everything it learns about sessions (prompts, cancels,
 * steers, new sessions) it reads from the store, so it works the same when the store is
 * shared by many server nodes.
 * @example
 * const { host } = createSessionServer();
 * host.onPrompt(async ({ prompt, turn }) => {
 *   for (const word of prompt.text.split(' ')) await turn.write(word + ' ');
 * });
 */
export interface SessionHost {
  /** This node's id, as named in the turn leases it holds. */
  readonly nodeId: string;
  /** A handle on one session (nothing is read or written until you use it). */
  session(id: string): SessionHandle;
  /**
   * Run `handler` for every new `prompt` in any session. Returns a function that stops it.
   * Each prompt is answered once per `agentId` (default `agent`), across all nodes.
   */
  onPrompt(handler: PromptHandler, options?: { agentId?: string }): () => void;
  /**
   * Announce a session to every node's host (done for you by the HTTP handler and `ensure()`).
   * Idempotent: each creation of a session is listed once, however often it is announced
   * (pass the stream's `instance` when you have it; it is looked up otherwise). Transient
   * store failures are retried; a failure that persists rejects. `from`: the offset its
   * prompts are answered after (a fork's inherited prompts are not answered again).
   */
  registerSession(id: string, instance?: string, from?: string): Promise<void>;
  /**
   * Tell the host a session was deleted (the HTTP handler does, after a DELETE). Deleted
   * sessions leave the session index: once as many were deleted on this node as the index
   * listed (at least 1000), it is rewritten with the live sessions only.
   */
  sessionDeleted(id: string): Promise<void>;
  /** Stop watching sessions, abort running turns (ended `error`), wait for agents (bounded). Idempotent. */
  close(): Promise<void>;
}

/**
 * Create a session host over a store, without the HTTP handler (`createSessionServer`
 * creates one for you).
 * @example
 * const host = createSessionHost({ store: memoryStore() });
 * const turn = await host.session('chat-1').startTurn({ agentId: 'writer' });
 */
export function createSessionHost(options: SessionHostOptions): SessionHost {
  return new Host(options);
}

interface Registration {
  handler: PromptHandler;
  agentId: string;
}

const RECENT_LIMIT = 200;

/** What the host tracks per session while it watches it. */
class Watched {
  readonly turns = new Set<TurnControl>();
  /** Recent cancels and steers, for turns registered after the watcher read them. */
  readonly recentCancels: Array<{ event: CancelEvent; offset: string }> = [];
  readonly recentSteers: SteerEvent[] = [];
  readonly handledPrompts = new Set<string>();
  /** Turns being opened (not yet in `turns`), counted against the concurrency limit. */
  starting = 0;
  /** Listed in the session index while prompt handlers run. */
  wantsPrompts = false;
  /** Prompts before this offset were there before this host watched: not answered. */
  promptsFrom: string | undefined;
  watcher: AbortController | undefined;

  constructor(readonly id: string) {}
}

class Host implements SessionHost {
  readonly nodeId: string;
  readonly #store: SessionStore;
  readonly #onError: (error: unknown) => void;
  readonly #indexId: string;
  readonly #closeTimeoutMs: number;
  readonly #maxConcurrentTurns: number;
  readonly #lifetime = new AbortController();
  readonly #watched = new Map<string, Watched>();
  readonly #registrations = new Set<Registration>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #leases: TurnLeases;
  #index: AbortController | undefined;
  #indexReady: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #deletions = 0;
  #listedAtCompaction = 0;
  #compacting: Promise<void> | undefined;
  /** Refreshes the snapshots of the sessions this host watches. */
  readonly #snapshots: SnapshotKeeper;

  constructor(options: SessionHostOptions) {
    this.#store = options.store;
    this.#onError = options.onError ?? reportToConsole;
    this.#indexId = options.indexStreamId ?? '__sessions';
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 5000;
    const leaseSeconds = options.turnLeaseSeconds ?? 6;
    if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1) {
      throw new SessionServerError('bad-request', `turnLeaseSeconds must be a whole number of seconds ≥ 1, not ${leaseSeconds}`);
    }
    this.nodeId = options.nodeId ?? randomId();
    this.#leases = new TurnLeases({ store: this.#store, leaseSeconds, nodeId: this.nodeId, onError: this.#onError });
    this.#maxConcurrentTurns = options.maxConcurrentTurns ?? 4;
    this.#snapshots = new SnapshotKeeper(this.#store, this.#onError);
  }

  session(id: string): SessionHandle {
    this.#assertOpen();
    return openSessionHandle(id, {
      store: this.#store,
      register: (sessionId, instance) => this.registerSession(sessionId, instance),
      startTurn: (sessionId, turn) => this.#openTurn(sessionId, turn.turnId ?? randomId(), turn.agentId ?? 'agent', undefined),
      onError: this.#onError,
    });
  }

  onPrompt(handler: PromptHandler, options: { agentId?: string } = {}): () => void {
    this.#assertOpen();
    const registration: Registration = { handler, agentId: options.agentId ?? 'agent' };
    this.#registrations.add(registration);
    if (this.#index === undefined) this.#watchIndex();
    return () => {
      if (!this.#registrations.delete(registration) || this.#registrations.size > 0) return;
      this.#index?.abort();
      this.#index = undefined;
      for (const watched of this.#watched.values()) this.#stopIfIdle(watched);
    };
  }

  async registerSession(id: string, instance?: string, from?: string): Promise<void> {
    this.#assertOpen();
    // A store failure: listing again is harmless (deduplicated).
    await retryStoreFailures(async () => this.#list(id, instance ?? (await this.#instanceOf(id)), from), this.#lifetime.signal);
  }

  async #instanceOf(id: string): Promise<string | undefined> {
    const head = await this.#store.head(id);
    return head.status === 'ok' ? head.stream.instance : undefined;
  }

  /** Append the session to the index, once per creation of it (an idempotent producer named after it). */
  async #list(id: string, instance: string | undefined, from: string | undefined): Promise<void> {
    const options = indexAppend(id, instance, from);
    await this.#ensureIndex();
    let outcome = await this.#store.append(this.#indexId, options);
    if (outcome.status === 'not-found') {
      this.#indexReady = undefined;
      await this.#ensureIndex();
      outcome = await this.#store.append(this.#indexId, options);
    }
    if (outcome.status !== 'appended' && outcome.status !== 'duplicate') {
      throw new SessionServerError('internal', `cannot record session ${id} in the index: ${outcome.status}`);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const reason = new SessionServerError('closed', 'the session host shut down');
    this.#lifetime.abort(reason);
    this.#leases.close();
    for (const watched of this.#watched.values()) {
      watched.watcher?.abort();
      for (const turn of watched.turns) turn.cancel(reason);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#closeTimeoutMs);
    });
    const settled = await Promise.race([Promise.allSettled([...this.#tasks, this.#snapshots.settle()]).then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (settled === 'timeout') this.#onError(new SessionServerError('closed', `${this.#tasks.size} agent(s) still running after close()`));
  }

  #assertOpen(): void {
    if (this.#lifetime.signal.aborted) throw new SessionServerError('closed', 'the session host is closed');
  }

  #ensureIndex(): Promise<void> {
    this.#indexReady ??= this.#store
      .create(this.#indexId, { contentType: 'application/json' })
      .then((outcome) => {
        if (outcome.status !== 'created' && outcome.status !== 'exists') {
          throw new SessionServerError('internal', `cannot create the session index: ${outcome.status}`);
        }
      })
      .catch((error: unknown) => {
        this.#indexReady = undefined; // try again next time
        throw error;
      });
    return this.#indexReady;
  }

  /** Follow the session index: every session listed gets a watcher for prompts. */
  #watchIndex(): void {
    const controller = new AbortController();
    this.#index = controller;
    const signal = AbortSignal.any([controller.signal, this.#lifetime.signal]);
    this.#track(
      (async () => {
        // The index ends (`not-found`) when a host compacted it: follow the new one from its start.
        for (let end = 'not-found'; end === 'not-found' && !signal.aborted; ) {
          this.#indexReady = undefined;
          await this.#ensureIndex();
          end = await follow({
            store: this.#store,
            id: this.#indexId,
            from: '-1',
            signal,
            onError: this.#onError,
            onBatch: async (entries, phase) => {
              for (const { sessionId, from } of sessionsOf(entries)) {
                if (signal.aborted) return;
                // Sessions that existed before we started: only their new prompts. New ones: from the
                // start (a fork: from where it was created, so inherited prompts are not answered again).
                await this.#watchForPrompts(sessionId, phase === 'live' ? (from ?? '-1') : undefined);
              }
            },
          });
        }
      })(),
    );
  }

  sessionDeleted(_id: string): Promise<void> {
    if (this.#lifetime.signal.aborted) return Promise.resolve();
    this.#deletions++;
    // Deleted sessions leave the index: rewrite it once as many were deleted as it listed (amortized O(1)).
    if (this.#deletions < Math.max(1000, this.#listedAtCompaction) || this.#compacting !== undefined) return Promise.resolve();
    this.#deletions = 0;
    this.#compacting = compactSessionIndex(this.#store, this.#indexId)
      .then((listed) => {
        this.#listedAtCompaction = listed;
      })
      .finally(() => {
        this.#compacting = undefined;
      });
    return this.#compacting;
  }

  async #watchForPrompts(sessionId: string, from: string | undefined): Promise<void> {
    let start = from;
    if (start === undefined && this.#watched.get(sessionId)?.watcher === undefined) {
      const head = await this.#store.head(sessionId);
      if (head.status !== 'ok') return;
      // A session that existed before we started: answer only its new prompts, but read it from
      // the start, so that turns left unfinished by a node that died (or by this node's previous
      // process) are tracked, and ended once their lease is found gone.
      this.#watchedOf(sessionId).promptsFrom = head.stream.tail;
      start = '-1';
    }
    // Synchronous from here: nothing can start or drop this session's watcher in between.
    const watched = this.#watchedOf(sessionId);
    watched.wantsPrompts = true;
    if (watched.watcher === undefined && start !== undefined) this.#startWatcher(watched, start);
  }

  #watchedOf(id: string): Watched {
    let watched = this.#watched.get(id);
    if (watched === undefined) {
      watched = new Watched(id);
      this.#watched.set(id, watched);
    }
    return watched;
  }

  #startWatcher(watched: Watched, from: string): void {
    const controller = new AbortController();
    watched.watcher = controller;
    const signal = AbortSignal.any([controller.signal, this.#lifetime.signal]);
    this.#track(
      follow({
        store: this.#store,
        id: watched.id,
        from,
        signal,
        onError: this.#onError,
        onBatch: (entries) => this.#dispatch(watched, entries, signal),
        idle: () => this.#isIdle(watched),
      }).then((end) => {
        if (watched.watcher === controller) watched.watcher = undefined;
        if (watched.watcher === undefined) this.#leases.forgetSession(watched.id);
        if (end === 'not-found') {
          for (const turn of watched.turns) turn.cancel(new SessionServerError('not-found', `session ${watched.id} was deleted`));
        }
        if (watched.watcher === undefined && watched.turns.size === 0) {
          this.#watched.delete(watched.id);
          this.#snapshots.forget(watched.id);
        }
      }),
    );
  }

  #isIdle(watched: Watched): boolean {
    return watched.turns.size === 0 && !(watched.wantsPrompts && this.#registrations.size > 0);
  }

  #stopIfIdle(watched: Watched): void {
    if (!this.#isIdle(watched) || watched.watcher === undefined) return;
    watched.watcher.abort();
    watched.watcher = undefined;
  }

  #dispatch(watched: Watched, entries: readonly StoredEntry[], signal: AbortSignal): void {
    let ended = false;
    for (const entry of entries) {
      if (signal.aborted) return;
      const event = parseEntry(entry, watched.id, this.#onError);
      if (!isSdkEvent(event) || problemWithEvent(event) !== undefined) continue;
      const sdkEvent = event as unknown as SessionEvent;
      switch (sdkEvent.type) {
        case 'prompt':
          this.#onPromptEvent(watched, sdkEvent, entry.offset);
          break;
        case 'cancel':
          remember(watched.recentCancels, { event: sdkEvent, offset: entry.offset });
          for (const turn of watched.turns) {
            if (turn.isCancelledBy(sdkEvent, entry.offset)) turn.cancel(cancelReason(sdkEvent));
          }
          break;
        case 'steer':
          remember(watched.recentSteers, sdkEvent);
          for (const turn of watched.turns) if (turn.turnId === sdkEvent.turnId) turn.pushSteer(sdkEvent);
          break;
        case 'turn.start': // whoever runs it (this node too): should its node die, its lease lapses
          this.#leases.track(watched.id, sdkEvent.turnId, sdkEvent.agentId);
          break;
        case 'turn.end':
          this.#leases.forget(watched.id, sdkEvent.turnId, sdkEvent.agentId);
          ended = true;
          break;
        case 'answer':
          for (const turn of watched.turns) if (turn.turnId === sdkEvent.turnId) turn.pushAnswer(sdkEvent);
          break;
        default:
          break;
      }
    }
    if (!signal.aborted) this.#snapshots.observe(watched.id, entries, ended);
  }

  #onPromptEvent(watched: Watched, prompt: PromptEvent, offset: string): void {
    if (!watched.wantsPrompts || this.#registrations.size === 0 || watched.handledPrompts.has(prompt.turnId)) return;
    if (watched.promptsFrom !== undefined && offset < watched.promptsFrom) return;
    watched.handledPrompts.add(prompt.turnId);
    if (watched.handledPrompts.size > 10 * RECENT_LIMIT) {
      watched.handledPrompts.delete(watched.handledPrompts.values().next().value as string);
    }
    const busy = watched.turns.size + watched.starting >= this.#maxConcurrentTurns;
    for (const registration of this.#registrations) {
      this.#track(busy ? this.#refuseTurn(registration, watched.id, prompt) : this.#runPrompt(registration, watched, prompt, offset));
    }
  }

  /** Too many turns running in this session: end this one `error` without running an agent. */
  async #refuseTurn(registration: Registration, sessionId: string, prompt: PromptEvent): Promise<void> {
    const error = `too many turns running in this session (at most ${this.#maxConcurrentTurns}); try again when one ended`;
    const event = { type: 'turn.end', turnId: prompt.turnId, agentId: registration.agentId, reason: 'error', error };
    // Seq 0 of the turn's producer: it claims the turn, so no node starts it afterwards.
    await this.#store.append(sessionId, {
      entries: [utf8(JSON.stringify(event))],
      contentType: 'application/json',
      producer: { id: turnProducerId(prompt.turnId, registration.agentId), epoch: 0, seq: 0 },
    });
  }

  async #runPrompt(registration: Registration, watched: Watched, prompt: PromptEvent, origin: string): Promise<void> {
    const sessionId = watched.id;
    let turn: TurnControl;
    watched.starting++;
    try {
      turn = await this.#openTurn(sessionId, prompt.turnId, registration.agentId, origin);
    } catch (error) {
      // Another node (or an earlier run) already answers this prompt as this agent: not ours.
      if (SessionServerError.isInstance(error) && error.code === 'conflict') return;
      this.#onError(error);
      return;
    } finally {
      watched.starting--;
    }
    const endOnAbort = (): void => {
      const reason: unknown = turn.signal.reason;
      const closing = SessionServerError.isInstance(reason) && reason.code !== 'cancelled';
      turn.end(closing ? 'error' : 'cancelled', closing ? reason.message : undefined).catch(this.#onError);
    };
    if (turn.signal.aborted) endOnAbort();
    else turn.signal.addEventListener('abort', endOnAbort, { once: true });
    try {
      await registration.handler({ session: this.session(sessionId), prompt, turn });
      await turn.end('complete');
    } catch (error) {
      const expected = turn.signal.aborted && SessionServerError.isInstance(error) && error.code === 'turn-ended';
      if (!expected) {
        this.#onError(error);
        await turn.end('error', error instanceof Error ? error.message : String(error)).catch(this.#onError);
      }
    } finally {
      turn.signal.removeEventListener('abort', endOnAbort);
    }
  }

  /** Start a turn: make sure the session exists and is watched, register the turn, then write `turn.start`. */
  async #openTurn(sessionId: string, turnId: string, agentId: string, origin: string | undefined): Promise<TurnControl> {
    this.#assertOpen();
    await ensureSession(this.#store, sessionId, (id, instance) => this.registerSession(id, instance));
    const head = await this.#store.head(sessionId);
    if (head.status !== 'ok') throw new SessionServerError(head.status, `no session ${sessionId}`);
    // Synchronous from here: the watcher starts before turn.start is written, so it sees every later cancel.
    const watched = this.#watchedOf(sessionId);
    if (watched.watcher === undefined) this.#startWatcher(watched, head.stream.tail);
    const lease = { release: undefined as (() => void) | undefined, ended: false };
    const turn = createTurn({
      store: this.#store,
      sessionId,
      turnId,
      agentId,
      origin: origin ?? head.stream.tail,
      onEnd: () => {
        lease.ended = true;
        lease.release?.();
        watched.turns.delete(turn);
        // The watcher may stop (idle) before it reads this turn.end: refresh the snapshot now.
        this.#snapshots.observe(watched.id, [], true);
        this.#stopIfIdle(watched);
      },
    });
    watched.turns.add(turn);
    for (const { event, offset } of watched.recentCancels) if (turn.isCancelledBy(event, offset)) turn.cancel(cancelReason(event));
    for (const steer of watched.recentSteers) if (steer.turnId === turnId) turn.pushSteer(steer);
    try {
      await turn.start();
    } catch (error) {
      watched.turns.delete(turn);
      this.#stopIfIdle(watched);
      throw error;
    }
    this.#holdLease(turn, lease);
    return turn;
  }

  /** Hold the claimed turn's lease until it ends (renewal failures are reported, and retried). */
  #holdLease(turn: TurnControl, lease: { release: (() => void) | undefined; ended: boolean }): void {
    this.#leases.hold(turn.sessionId, turn.turnId, turn.agentId).then((release) => {
      lease.release = release;
      if (lease.ended) release();
    }, this.#onError);
  }

  #track(task: Promise<void>): void {
    const tracked = task.catch(this.#onError).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
  }
}

function cancelReason(event: CancelEvent): SessionServerError {
  return new SessionServerError('cancelled', `turn ${event.turnId} cancelled by client ${event.clientId}`);
}

function remember<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > RECENT_LIMIT) list.shift();
}

function parseEntry(entry: StoredEntry, sessionId: string, onError: (error: unknown) => void): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(entry.data)) as unknown;
  } catch (error) {
    onError(new SessionServerError('invalid-json', `session ${sessionId}: entry at ${entry.offset} is not JSON`, { cause: error }));
    return undefined;
  }
}

function randomId(): string {
  return globalThis.crypto.randomUUID();
}
