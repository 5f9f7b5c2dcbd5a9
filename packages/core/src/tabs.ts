import { DurableSessionError } from './errors';
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
  const locks = globalThis.navigator?.locks;
  if (!locks || typeof BroadcastChannel !== 'function') return;
  const name = tabChannelName(sessionId);
  const channel = new BroadcastChannel(name);
  const life = new AbortController();
  let leader = false;
  const problem = (what: string) => (cause: unknown): void => host.warn(new DurableSessionError('protocol', `${what} failed; the tabs resync`, { cause }));
  const post = (message: TabMessage<E, S>): void => {
    try {
      if (!life.signal.aborted) channel.postMessage(message);
    } catch (e) {
      problem(`posting a "${message.type}" tab message`)(e); // e.g. a state that cannot be cloned
    }
  };
  const status = (): unknown => leader && post({ type: 'status', status: host.get().status, offset: host.get().offset });
  let ring: [from: string, batch: ReadBatch<E>][] = [];
  let release: () => void = () => {};
  const leave = (): void => {
    leader = false;
    life.abort();
    clearTimeout(timer);
    channel.close();
    release();
  };
  // One `need` at a time: gaps found while it is out are asked again 250 ms later, unless a chained batch came.
  let timer: ReturnType<typeof setTimeout> | undefined;
  let want = false;
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

  channel.onmessageerror = problem('reading a tab message');
  channel.onmessage = ({ data: m }: MessageEvent<TabMessage<E, S>>): void => {
    const { offset } = host.get();
    if (leader) {
      if (m.type !== 'need') return;
      const i = ring.findIndex(([from]) => from === m.from);
      if (i >= 0) post({ type: 'batches', from: m.from, batches: ring.slice(i).map((r) => r[1]) });
      else if (m.from !== offset) post({ type: 'state', offset, state: host.get().state });
      status();
      return;
    }
    if (m.type === 'batches') {
      let from = m.from;
      for (const batch of m.batches) {
        if (from === host.get().offset) {
          want = false;
          host.apply(batch);
        } else if (isAfterOffset(batch.offset, host.get().offset)) return ask();
        from = batch.offset;
      }
    } else if (m.type === 'state') {
      if (m.reset || isAfterOffset(m.offset, offset)) {
        ring = [];
        want = false;
        host.adopt(m.offset, m.state, !!m.reset);
      }
    } else if (m.type === 'status') {
      host.status(m.status);
      if (isAfterOffset(m.offset, offset)) ask();
    }
  };

  locks
    .request(name, { signal: life.signal }, () => {
      if (life.signal.aborted) return;
      leader = true;
      host.lead(true);
      status();
      return new Promise<void>((resolve) => (release = resolve));
    })
    .catch((e: unknown) => {
      if (life.signal.aborted) return; // we left before getting the lock
      leave();
      host.warn(new DurableSessionError('network', 'the Web Lock request failed; this tab reads on its own', { cause: e }));
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
