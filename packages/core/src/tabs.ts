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
  let leader = false;
  let ring: [from: string, batch: ReadBatch<E>][] = [];
  let want = false; // a gap was found while a `need` was out
  let timer: ReturnType<typeof setTimeout> | undefined;
  const problem = (what: string) => (cause: unknown): void => host.warn(new DurableSessionError('protocol', `${what} failed`, { cause }));
  const post = (message: TabMessage<E, S>): void => {
    try {
      if (!life.signal.aborted) channel.postMessage(message);
    } catch (error) {
      problem(`tab ${message.type}`)(error); // e.g. a state that cannot be cloned
    }
  };
  const status = (): unknown => leader && post({ type: 'status', status: host.get().status, offset: host.get().offset });
  // One `need` at a time: gaps found while it is out are asked again 250 ms later, unless a chained batch came.
  const ask = (): void => {
    want = true;
    if (timer) return;
    want = false;
    post({ type: 'need', from: host.get().offset });
    timer = setTimeout(() => {
      timer = undefined;
      if (want) ask();
    }, 250);
  };
  const follower: Follower = {
    chained: () => void (want = false),
    resync: () => void ((ring = []), (want = false)),
    ask,
  };
  let release: () => void = () => {};
  const leave = (): void => {
    leader = false;
    life.abort();
    clearTimeout(timer);
    channel.close();
    release();
  };
  channel.onmessageerror = problem('tab message');
  channel.onmessage = ({ data: message }: MessageEvent<TabMessage<E, S>>): void => {
    if (!leader) return follow(host, follower, message);
    if (message.type !== 'need') return;
    const { offset, state } = host.get();
    const index = ring.findIndex(([from]) => from === message.from);
    if (index >= 0) post({ type: 'batches', from: message.from, batches: ring.slice(index).map((entry) => entry[1]) });
    else if (message.from !== offset) post({ type: 'state', offset, state });
    status();
  };
  const lead = (): void => {
    leader = true;
    host.lead(true);
    status();
  };
  holdLock(name, life.signal, lead, (resolve) => (release = resolve), (error) => {
    leave();
    host.warn(new DurableSessionError('network', 'Web Lock failed: solo', { cause: error }));
    host.lead(false);
  });
  ask();

  return {
    applied(from, batch) {
      ring.push([from, batch]);
      if (ring.length > ringSize) ring.shift();
      if (leader) post({ type: 'batches', from, batches: [batch] });
    },
    // After the batch that changed it (the status carries the offset a follower checks).
    status: () => queueMicrotask(status),
    reset() {
      ring = [];
      if (leader) post({ type: 'state', offset: host.get().offset, state: host.get().state, reset: true });
    },
    close: leave,
  };
}

/** Request the Web Lock `name` and hold it until `release` is called (or the tab dies); `failed` unless we left first. */
function holdLock(name: string, signal: AbortSignal, lead: () => void, held: (release: () => void) => void, failed: (error: unknown) => void): void {
  globalThis.navigator.locks
    .request(name, { signal }, () => {
      if (signal.aborted) return;
      lead();
      return new Promise<void>(held);
    })
    .catch((error: unknown) => {
      if (!signal.aborted) failed(error); // else we left before getting the lock
    });
}

/** What a follower tab does besides applying: a chained batch came, the ring is stale, ask for the rest. */
interface Follower {
  chained(): void;
  resync(): void;
  ask(): void;
}

/** A follower applies chained batches, takes a newer (or reset) state, mirrors the status; a gap asks again. */
function follow<E, S extends SessionState>(host: TabHost<E, S>, tab: Follower, message: TabMessage<E, S>): void {
  const { offset } = host.get();
  if (message.type === 'batches') {
    let from = message.from;
    for (const batch of message.batches) {
      if (from === host.get().offset) {
        tab.chained();
        host.apply(batch);
      } else if (isAfterOffset(batch.offset, host.get().offset)) return tab.ask();
      from = batch.offset;
    }
  } else if (message.type === 'state') {
    if (message.reset || isAfterOffset(message.offset, offset)) {
      tab.resync();
      host.adopt(message.offset, message.state, !!message.reset);
    }
  } else if (message.type === 'status') {
    host.status(message.status);
    if (isAfterOffset(message.offset, offset)) tab.ask();
  }
}
