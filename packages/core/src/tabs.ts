import { DurableSessionError } from './errors';
import { environment } from './environment';
import type { ConnectionStatus, ReadBatch, SessionSnapshot, SessionState } from './types';
import { isAfterOffset } from './util';

/**
 * What the tabs of one browser say to each other about one session, over the
 * `BroadcastChannel` named {@link tabChannelName}. Every tab applies batches only as an
 * unbroken chain from its own offset, so each event is applied once and in order.
 * - `batches`: applied batches, chained: the first follows `from`, each next one follows the
 *   previous one's `offset`. The leader sends one per batch it reads, and a run of its
 *   recent batches in answer to `need`.
 * - `need`: a follower lacks everything after `from` (sent when it opens and on a gap).
 * - `state`: the leader's folded state at `offset`, in answer to a `need` its recent batches
 *   cannot serve; `reset` when the leader rebuilt from the start (the store answered 410).
 * - `status`: the leader's connection status and offset (sent when it is elected, when its
 *   status changes, and after each answer); a follower behind `offset` asks for the rest.
 * @example
 * const m: TabMessage<SessionEvent, SessionState> = { type: 'need', from: '0000_0042' };
 */
export type TabMessage<E, S> =
  | { type: 'batches'; from: string; batches: ReadBatch<E>[] }
  | { type: 'need'; from: string }
  | { type: 'state'; offset: string; state: S; reset?: boolean }
  | { type: 'status'; status: ConnectionStatus; offset: string };

/**
 * The name of a session's `BroadcastChannel` and Web Lock (the protocol version is part of it,
 * so tabs running another version of the library never mix).
 * @example
 * navigator.locks.query().then((q) => q.held?.some((l) => l.name === tabChannelName('chat-1')));
 */
export const tabChannelName = (sessionId: string): string => `durable-session:1:${sessionId}`;

/**
 * What {@link linkTabs} needs from a session.
 * @example
 * const host: TabHost<SessionEvent, SessionState> = { get: () => snap, apply, adopt, status, lead, warn };
 */
export interface TabHost<E, S extends SessionState> {
  get(): SessionSnapshot<S>;
  /** Apply a batch that follows the current offset (it comes back through `applied`). */
  apply(batch: ReadBatch<E>): void;
  /** Take the leader's state; `reset`: the leader rebuilt it from the start. */
  adopt(offset: string, state: S, reset: boolean): void;
  /** Show the leader's connection status. */
  status(status: ConnectionStatus): void;
  /** This tab got the lock (`true`: it now holds the session's connection), or tab coordination failed (`false`: go solo). */
  lead(leader: boolean): void;
  warn(error: DurableSessionError): void;
}

/**
 * A session's link to the other tabs, from {@link linkTabs}.
 * @example
 * tabs.applied(from, batch); // after applying a batch: kept for late tabs, rebroadcast by the leader
 */
export interface TabLink<E> {
  /** A batch following `from` was applied: remember it (ring of recent batches) and, as leader, broadcast it. */
  applied(from: string, batch: ReadBatch<E>): void;
  /** As leader: broadcast the connection status (call on every change). */
  status(): void;
  /** As leader: the state was rebuilt from the start; followers take it. */
  reset(): void;
  /** Leave: stop listening, release the lock (another tab takes over). */
  close(): void;
}

/**
 * Join the other tabs of this browser on one session: elect a leader with the Web Locks API
 * (held until `close()` or the tab dies), and keep followers in step over `BroadcastChannel`.
 * Each tab keeps a ring of its last `ringSize` applied batches (followers too, so a new
 * leader can serve them): a `need` the ring covers is answered with the batches from there;
 * any other with the leader's state. Returns `undefined` where Web Locks or BroadcastChannel
 * are missing: the session then reads on its own (`solo`).
 * @example
 * const tabs = linkTabs('chat-1', host); // host.lead(true) once this tab is the leader
 */
export function linkTabs<E, S extends SessionState>(sessionId: string, host: TabHost<E, S>, ringSize = 1000): TabLink<E> | undefined {
  if (!environment.tabs()) return;
  const name = tabChannelName(sessionId);
  const channel = new BroadcastChannel(name);
  const life = new AbortController();
  const tab: TabState<E, S> = { host, leader: false, ring: [], want: false, timer: undefined, post: () => {}, ask: () => {}, status: () => {} };
  const problem = (what: string) => (cause: unknown): void => host.warn(new DurableSessionError('protocol', `${what} failed; the tabs resync`, { cause }));
  tab.post = (message) => {
    try {
      if (!life.signal.aborted) channel.postMessage(message);
    } catch (error) {
      problem(`posting a "${message.type}" tab message`)(error); // e.g. a state that cannot be cloned
    }
  };
  tab.status = () => void (tab.leader && tab.post({ type: 'status', status: host.get().status, offset: host.get().offset }));
  // One `need` at a time: gaps found while it is out are asked again 250 ms later, unless a chained batch came.
  tab.ask = () => {
    tab.want = true;
    if (tab.timer) return;
    tab.want = false;
    tab.post({ type: 'need', from: host.get().offset });
    tab.timer = setTimeout(() => {
      tab.timer = undefined;
      if (tab.want) tab.ask();
    }, 250);
  };
  let release: () => void = () => {};
  const leave = (): void => {
    tab.leader = false;
    life.abort();
    clearTimeout(tab.timer);
    channel.close();
    release();
  };
  channel.onmessageerror = problem('reading a tab message');
  channel.onmessage = ({ data: message }: MessageEvent<TabMessage<E, S>>): void => (tab.leader ? answer(tab, message) : follow(tab, message));

  globalThis.navigator.locks
    .request(name, { signal: life.signal }, () => {
      if (life.signal.aborted) return;
      tab.leader = true;
      host.lead(true);
      tab.status();
      return new Promise<void>((resolve) => (release = resolve));
    })
    .catch((error: unknown) => {
      if (life.signal.aborted) return; // we left before getting the lock
      leave();
      host.warn(new DurableSessionError('network', 'the Web Lock request failed; this tab reads on its own', { cause: error }));
      host.lead(false);
    });
  tab.ask();

  return {
    applied(from, batch) {
      tab.ring.push([from, batch]);
      if (tab.ring.length > ringSize) tab.ring.shift();
      if (tab.leader) tab.post({ type: 'batches', from, batches: [batch] });
    },
    // After the batch that changed it (the status carries the offset a follower checks).
    status: () => queueMicrotask(tab.status),
    reset() {
      tab.ring = [];
      if (tab.leader) tab.post({ type: 'state', offset: host.get().offset, state: host.get().state, reset: true });
    },
    close: leave,
  };
}

/** One tab's side of the link. */
interface TabState<E, S extends SessionState> {
  host: TabHost<E, S>;
  leader: boolean;
  /** The last applied batches, each with the offset it follows. */
  ring: [from: string, batch: ReadBatch<E>][];
  /** A gap was found while a `need` was out. */
  want: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  post(message: TabMessage<E, S>): void;
  /** Ask the leader for what follows this tab's offset. */
  ask(): void;
  /** As leader: broadcast the connection status. */
  status(): void;
}

/** The leader answers a `need`: from its ring when it covers `from`, else with its state. */
function answer<E, S extends SessionState>(tab: TabState<E, S>, message: TabMessage<E, S>): void {
  if (message.type !== 'need') return;
  const { offset, state } = tab.host.get();
  const index = tab.ring.findIndex(([from]) => from === message.from);
  if (index >= 0) tab.post({ type: 'batches', from: message.from, batches: tab.ring.slice(index).map((entry) => entry[1]) });
  else if (message.from !== offset) tab.post({ type: 'state', offset, state });
  tab.status();
}

/** A follower applies chained batches, takes a newer (or reset) state, mirrors the status; a gap asks again. */
function follow<E, S extends SessionState>(tab: TabState<E, S>, message: TabMessage<E, S>): void {
  const { host } = tab;
  const { offset } = host.get();
  if (message.type === 'batches') {
    let from = message.from;
    for (const batch of message.batches) {
      if (from === host.get().offset) {
        tab.want = false;
        host.apply(batch);
      } else if (isAfterOffset(batch.offset, host.get().offset)) return tab.ask();
      from = batch.offset;
    }
  } else if (message.type === 'state') {
    if (message.reset || isAfterOffset(message.offset, offset)) {
      tab.ring = [];
      tab.want = false;
      host.adopt(message.offset, message.state, !!message.reset);
    }
  } else if (message.type === 'status') {
    host.status(message.status);
    if (isAfterOffset(message.offset, offset)) tab.ask();
  }
}
