import type { AppEvent, SessionEvent, SteerState, TurnEndReason } from './events';
import type { DurableSessionError } from './errors';
import type { SnapshotPage, SnapshotRequest } from './snapshot-window';

/**
 * Connection status of a session, as shown by a badge in the UI.
 * `closed`: no event will arrive any more (the session object or its stream was closed).
 * @example
 * const badge = session.get().status === 'live' ? '●' : '○';
 */
export type ConnectionStatus = 'connecting' | 'live' | 'reconnecting' | 'offline' | 'closed';

/**
 * Status of one turn.
 * @example
 * const showStop = turn.status === 'streaming';
 */
export type TurnStatus = 'streaming' | 'complete' | 'cancelled' | 'error';

/**
 * Where the snapshot is persisted.
 * @example
 * if (session.get().persistence === 'memory') showNotice('History is not kept on this device');
 */
export type PersistenceMode = 'indexeddb' | 'memory';

/**
 * How this tab reaches the network: `leader` holds the session's one connection,
 * `follower` applies what the leader rebroadcasts, `solo` has its own connection
 * (tab coordination disabled or unsupported).
 * @example
 * const holdsConnection = session.get().tabs !== 'follower';
 */
export type TabMode = 'leader' | 'follower' | 'solo';

/**
 * One prompt-and-answer cycle, folded from the session's events.
 * @example
 * const answer = turn.text; // all agents' text joined
 * const byAgent = turn.agents.writer;
 */
export interface Turn {
  turnId: string;
  /** The prompt text, once the `prompt` event was applied. */
  prompt: string | undefined;
  /** The client that wrote the prompt. */
  clientId: string | undefined;
  /** Text per agent, in the order agents started. */
  agents: Readonly<Record<string, string>>;
  /** How each agent that sent `turn.end` ended (agent id → reason). */
  ended: Readonly<Record<string, TurnEndReason>>;
  /** Every agent's text joined (agents separated by a blank line). */
  text: string;
  status: TurnStatus;
  /** Reason given by an agent that ended with `error`. */
  error: string | undefined;
  /** Steer messages sent for this turn, in order. */
  steers: readonly string[];
  /** The same steers with their ids and delivery states, in order. */
  steerStates: readonly SteerStatus[];
  /** The agents' questions in this turn, in order (open ones: `state === 'open'`). */
  questions: readonly Question[];
}

/**
 * One steer of a turn and where it is (see {@link SteerState}).
 * @example
 * const badge = `${steer.text} · ${steer.state}`;
 */
export interface SteerStatus {
  steerId: string;
  text: string;
  clientId: string;
  state: SteerState;
  /** Why it was rejected (`turn-ended`, `not-taken`, or the agent's words). */
  reason: string | undefined;
}

/**
 * An agent's question (an approval) as folded from `ask`, `answer` and `ask.closed`.
 * `open` until the first valid answer (`answered`), or until its timeout passed, its turn was
 * cancelled or ended (`closed`).
 * @example
 * const open = turn.questions.filter((q) => q.state === 'open');
 * await session.answer(open[0]!.askId, open[0]!.options[0]!);
 */
export interface Question {
  askId: string;
  agentId: string;
  question: string;
  options: readonly string[];
  state: 'open' | 'answered' | 'closed';
  /** The chosen option, once answered. */
  choice: string | undefined;
  /** The client that answered. */
  answeredBy: string | undefined;
  /** Why it closed unanswered (`timeout`, `cancelled`, `turn-ended`). */
  reason: string | undefined;
  expiresAt: number | undefined;
}

/** The end reason of a turn, re-exported for convenience (see `events.ts`). */
export type { TurnEndReason };

/**
 * The part of the snapshot folded from events: what is persisted next to the offset.
 * Applications extend it through the `reduce` option.
 * @example
 * interface MyState extends SessionState { tools: string[] }
 */
export interface SessionState {
  turns: readonly Turn[];
  /** The turn currently streaming, if any (the latest one). */
  activeTurnId: string | undefined;
  /**
   * Turns before `turns[0]` not loaded (a session started from a server snapshot page; see
   * `loadOlder()`). Kept in the state so a reload restored from IndexedDB can still page back.
   */
  olderTurns?: number;
}

/**
 * A pure function folding one event into the state. Must not mutate `state`.
 * @example
 * const reduce: Reducer<SessionState, SessionEvent | MyEvent> = (s, e) =>
 *   e.type === 'my.event' ? s : reduceSession(s, e);
 */
export type Reducer<S, E> = (state: S, event: E) => S;

/**
 * Everything a UI renders: the folded state plus connection facts.
 * A new object only when something changed.
 * @example
 * const { turns, status } = session.get();
 */
export interface SessionSnapshot<S extends SessionState = SessionState> {
  sessionId: string;
  status: ConnectionStatus;
  /** The last applied offset (`-1` before any event). */
  offset: string;
  /** The folded state. `turns` and `activeTurnId` are also copied to the top level. */
  state: S;
  turns: S['turns'];
  activeTurnId: string | undefined;
  /**
   * `true` unless the store dropped events this client had not read yet (HTTP 410)
   * and the state was rebuilt from what the store still holds.
   */
  recovered: boolean;
  /**
   * Turns older than `turns[0]` not loaded yet: the session started from a server snapshot page
   * (the `snapshot` option) and `loadOlder()` fetches them. `0` when every turn is here.
   */
  olderTurns: number;
  /** `true` when this snapshot started from a persisted state and resumed from its offset. */
  resumed: boolean;
  persistence: PersistenceMode;
  tabs: TabMode;
  /** The last error reported (cleared when the connection is healthy again). */
  error: DurableSessionError | undefined;
  /**
   * Who watches this session now (with `presence: true` and an adapter that supports it):
   * one entry per client (browser profile or device) with its count of tabs. Empty otherwise.
   * Never written to the session's log.
   */
  presence: readonly PresenceEntry[];
}

/**
 * One client watching a session, with how many of its tabs.
 * @example
 * const watchers = snapshot.presence.reduce((n, p) => n + p.tabs, 0);
 */
export interface PresenceEntry {
  clientId: string;
  tabs: number;
}

/**
 * A tab's presence heartbeat (see {@link SessionAdapter.presence}).
 * @example
 * const beat: PresenceBeat = { clientId: 'c1', tabId: 'tab-7' };
 */
export interface PresenceBeat {
  clientId: string;
  tabId: string;
  /** The tab is going: stop counting it now. */
  leave?: boolean;
}

/**
 * A batch of events read from a session. `offset` is the offset after the last
 * event of the batch: reading from it returns what follows.
 * @example
 * const batch: ReadBatch<SessionEvent> = { events: [], offset: '0000_0042', upToDate: true };
 */
export interface ReadBatch<E> {
  events: E[];
  offset: string;
  /** `true` when the batch reaches the current end of the session. */
  upToDate: boolean;
  /** `true` when the session is closed: no event will ever follow. */
  closed?: boolean;
}

/**
 * Identity of one append, so that a retried append lands once.
 * @example
 * await adapter.append('chat-1', event, { producerId: 'agent-7', epoch: 0, seq: 0 });
 */
export interface AppendOptions {
  /** Stable for one writer (a session object). */
  producerId: string;
  /** Bumped when a writer restarts with the same `producerId`. */
  epoch: number;
  /** Increases by one per append of this producer; a retry reuses it. */
  seq: number;
  signal?: AbortSignal;
}

/**
 * The one seam to a backend that holds sessions.
 * @example
 * const adapter: SessionAdapter = httpAdapter({ baseUrl: 'http://127.0.0.1:4100' });
 */
export interface SessionAdapter<E = unknown> {
  /**
   * Read every event after `offset` (`-1` = from the start): catch-up first,
   * then, with `live`, new events as they are appended. Ends when `signal`
   * aborts or (without `live`) when up to date. Throws a {@link DurableSessionError}
   * (`gone` when the store no longer holds `offset`: truncated, or the stream was lost or re-created).
   */
  read(sessionId: string, offset: string, options: { live: boolean; signal: AbortSignal }): AsyncIterable<ReadBatch<E>>;
  /** Append one event. Idempotent for the same `producerId`, `epoch` and `seq`. */
  append(sessionId: string, event: E, options: AppendOptions): Promise<void>;
  /**
   * Optional: a page of the session as the server folded it (see {@link SnapshotRequest}).
   * `httpAdapter` implements it (`GET …/v1/stream/<id>?snapshot`); sessions opened with the
   * `snapshot` option use it to start without reading the whole log, and for `loadOlder()`.
   */
  snapshot?(sessionId: string, request: SnapshotRequest, options: { signal: AbortSignal }): Promise<SnapshotPage>;
  /**
   * Optional: send this tab's presence beat and return who watches the session now, plus how
   * often to beat. Nothing is written to the session's log.
   */
  presence?(sessionId: string, beat: PresenceBeat, options: { signal?: AbortSignal }): Promise<{ clients: PresenceEntry[]; beatMs: number }>;
}

/**
 * Any event a session of application events `E` may carry.
 * @example
 * type Ev = AnySessionEvent<ToolCall>; // SessionEvent | ToolCall
 */
export type AnySessionEvent<E extends AppEvent = never> = SessionEvent | E;

/**
 * Reconnect policy: exponential backoff with full jitter and a cap.
 * @example
 * createDurableSession({ sessionId, adapter, reconnect: { initialDelayMs: 100, maxDelayMs: 5_000 } });
 */
export interface ReconnectOptions {
  /** First delay ceiling in ms. Default 250. */
  initialDelayMs?: number;
  /** Largest delay ceiling in ms. Default 10_000. */
  maxDelayMs?: number;
  /** Growth factor per failed attempt. Default 2. */
  multiplier?: number;
}

/**
 * Options of {@link DurableSession} creation.
 * @example
 * createDurableSession({ sessionId: 'chat-1', adapter: httpAdapter({ baseUrl }) });
 */
export interface DurableSessionOptions<E extends AppEvent = never, S extends SessionState = SessionState> {
  sessionId: string;
  adapter: SessionAdapter<AnySessionEvent<E>>;
  /** Identifies this browser/device in `prompt`, `cancel` and `steer` events. Default: a random id kept in `localStorage`. */
  clientId?: string;
  /** `'indexeddb'` (default where available) or `'memory'`. */
  persistence?: PersistenceMode;
  /** Extends the fold with application events. Default {@link reduceSession}. */
  reduce?: Reducer<S, AnySessionEvent<E>>;
  /** Initial folded state, required when `S` adds fields. */
  initialState?: S;
  reconnect?: ReconnectOptions;
  /**
   * Share one connection among the tabs of a browser showing this session. Default `true`.
   * The tab holding the session's Web Lock (`tabs: 'leader'`) reads from the network and
   * rebroadcasts every batch over a `BroadcastChannel`; the others (`'follower'`) apply the same
   * batches, show the leader's connection status, and take the lock when the leader closes.
   * Every tab still appends (`send`, `cancel`, `steer`) itself. Where Web Locks or
   * BroadcastChannel are missing, and with `false`, each tab reads on its own (`'solo'`).
   */
  tabs?: boolean;
  /**
   * Tell the server this tab watches the session, and keep `snapshot.presence` current. Default
   * `false`. Needs an adapter with `presence` (`httpAdapter`): each tab beats every ~2 s (the
   * server says how often), and says goodbye when it closes (`pagehide`, `close()`).
   */
  presence?: boolean;
  /**
   * Start from the server's snapshot when there is no saved state (a new device, a cleared
   * IndexedDB, a 410 rebuild): pass `snapshotPaging({ turns })`. The session renders the newest
   * `turns` turns in full, reads only the log after them, and `loadOlder()` pages back. Needs the
   * adapter's `snapshot` (`httpAdapter`; with an adapter without it, such as `websocketAdapter`, the
   * session reads the whole log) and the default reducer (the server folds with `reduceSession`).
   * Events before the snapshot are never delivered to `on('event')`. Default: read the whole log.
   */
  snapshot?: SnapshotPaging;
}

/**
 * How a session pages through server snapshots: create it with `snapshotPaging({ turns })` (its own
 * export, so sessions without it do not carry its code).
 * @example
 * createDurableSession({ sessionId, adapter, snapshot: snapshotPaging({ turns: 10 }) });
 */
export interface SnapshotPaging {
  /** Turns per page. */
  readonly turns: number;
  /** Starts paging for one session (called by `createDurableSession`). */
  readonly start: (host: never) => unknown;
}

/**
 * Finer-grained notifications, through `session.on(name, callback)`.
 * @example
 * session.on('event', ({ event, offset }) => console.log(offset, event.type));
 */
export interface DurableSessionEvents<E extends AppEvent = never> {
  /** An event was applied (exactly once, in order). */
  event: (applied: { event: AnySessionEvent<E>; offset: string }) => void;
  /** The connection status changed. */
  status: (status: ConnectionStatus) => void;
  /** Something degraded without failing (persistence fell back to memory, a batch was dropped as a repeat). */
  warning: (error: DurableSessionError) => void;
  /** An operation failed (read or append). */
  error: (error: DurableSessionError) => void;
}

/**
 * How long one write (`send`, `cancel`, `steer`, `emit`) may take. Either ending it rejects the
 * write with `aborted` (reported to the caller only, not as a session `error`); whether the
 * store got it is then unknown, and the next write starts a new producer epoch.
 * @example
 * await session.send('Hello', { timeoutMs: 10_000, signal: controller.signal });
 */
export interface WriteOptions {
  /** Abort the write (while queued or in flight). */
  signal?: AbortSignal;
  /** Give up after this many ms, retries included. */
  timeoutMs?: number;
}

/**
 * A durable chat session: a store over the session's log.
 * Follows Svelte's store contract (`subscribe` calls back at once).
 * @example
 * const session = createDurableSession({ sessionId: 'chat-1', adapter });
 * const stop = session.subscribe((s) => render(s.turns));
 * const turnId = await session.send('Hello');
 * await session.cancel(turnId);
 */
export interface DurableSession<E extends AppEvent = never, S extends SessionState = SessionState> {
  readonly sessionId: string;
  readonly clientId: string;
  /** The current snapshot: the same object until something changes. */
  get(): SessionSnapshot<S>;
  /**
   * Call `callback` now and on every change. Returns an unsubscribe function. An exception thrown by
   * `callback` is reported as an uncaught error (`window.onerror`) and harms neither the session nor
   * the other subscribers.
   */
  subscribe(callback: (snapshot: SessionSnapshot<S>) => void): () => void;
  /** Listen to finer events. Returns an unbind function. Isolated like `subscribe` callbacks. */
  on<K extends keyof DurableSessionEvents<E>>(name: K, callback: DurableSessionEvents<E>[K]): () => void;
  /** Write a `prompt`; resolves with its turn id once the store acknowledged it. */
  send(text: string, options?: WriteOptions & { turnId?: string }): Promise<string>;
  /** Write a `cancel` for `turnId` (default: the active turn; `"*"` = every turn). */
  cancel(turnId?: string, options?: WriteOptions): Promise<void>;
  /**
   * Write a `steer` for `turnId` (default: the active turn). Resolves with the steer's id, whose
   * delivery state the turn's `steerStates` shows (`sent` → `received` → `applied` / `rejected`).
   */
  steer(text: string, turnId?: string, options?: WriteOptions): Promise<string>;
  /**
   * Answer an open question of an agent (`turn.questions`) with one of its options. Rejects with
   * `already-answered` when someone answered it first (or it closed), `unauthorized` when the
   * server's `authorize` refuses, `bad-input` for an unknown question or choice. A retry after a
   * lost reply is recognised as the same answer, never a second one.
   */
  answer(askId: string, choice: string): Promise<void>;
  /** Append an application event. */
  emit(event: E, options?: WriteOptions): Promise<void>;
  /**
   * Load up to `turns` (default: the `snapshot` option's) turns older than the oldest loaded one,
   * in front of `turns`, without disturbing the live tail; resolves with how many were added (`0`
   * when `olderTurns` is 0). Calls run one at a time.
   */
  loadOlder(turns?: number): Promise<number>;
  /** Stop reading, flush persistence, release the tab lock. Idempotent. */
  close(): Promise<void>;
}
