import { utf8 } from './protocol/responses';
import type { SessionStore } from './store';
import { turnProducerId } from './turn';

/**
 * The producer epoch a survivor ends an orphaned turn with: above any epoch the turn's own
 * writer reaches (it starts at 0 and moves up one per failed append), so the survivor's
 * `turn.end` is accepted once (a second survivor's is a duplicate) and fences off the old
 * writer, should it still be alive.
 */
export const REAPER_EPOCH = 1_000_000;

/**
 * The stream whose sliding TTL is the lease of a running turn; its one entry names the node
 * holding it (`{ type: 'lease', node, sessionId, turnId, agentId }`).
 */
export function leaseId(sessionId: string, turnId: string, agentId: string): string {
  return `__lease/${sessionId}/${turnId}/${agentId}`;
}

interface ForeignTurn {
  sessionId: string;
  turnId: string;
  agentId: string;
  seenAt: number;
}

/**
 * Turn leases, kept in the store so that every node sees them. The node running a turn holds
 * a lease: a stream with a sliding TTL of `leaseSeconds` that it touches every third of that.
 * Every other node that watches the session tracks the turn from its `turn.start` until its
 * `turn.end`; when the lease is gone (its node died, so nobody touched it) and the turn is
 * older than one lease, it ends the turn `error`. So a dead node's turn ends within about
 * `leaseSeconds * 4/3` (plus one store round trip).
 */
export class TurnLeases {
  readonly #store: SessionStore;
  readonly #seconds: number;
  readonly #onError: (error: unknown) => void;
  readonly #foreign = new Map<string, ForeignTurn>();
  readonly #beats = new Set<ReturnType<typeof setInterval>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #checking = false;
  #closed = false;

  readonly #nodeId: string;

  constructor(options: { store: SessionStore; leaseSeconds: number; nodeId: string; onError: (error: unknown) => void }) {
    this.#store = options.store;
    this.#nodeId = options.nodeId;
    this.#seconds = options.leaseSeconds;
    this.#onError = options.onError;
  }

  /** The heartbeat period, in ms. */
  get periodMs(): number {
    return (this.#seconds * 1000) / 3;
  }

  /**
   * Hold the lease of a turn this node runs; the returned function stops renewing it. The lease
   * is left to expire rather than deleted, so that a survivor sees the turn's `turn.end` before
   * it could take the missing lease for a dead node.
   */
  async hold(sessionId: string, turnId: string, agentId: string): Promise<() => void> {
    const id = leaseId(sessionId, turnId, agentId);
    // The lease names its holder, so an operator can tell which node runs a turn.
    const holder = utf8(JSON.stringify({ type: 'lease', node: this.#nodeId, sessionId, turnId, agentId }));
    const take = (): Promise<unknown> => this.#store.create(id, { contentType: 'application/json', ttlSeconds: this.#seconds, entries: [holder] });
    await take();
    const beat = setInterval(() => {
      this.#store
        .head(id, { touch: true })
        .then(async (lease) => {
          // Lost (the store forgot it, or it expired during a store outage): take it again.
          if (lease.status !== 'ok') await take();
        })
        .catch(this.#onError);
    }, this.periodMs);
    beat.unref?.();
    this.#beats.add(beat);
    return () => {
      clearInterval(beat);
      this.#beats.delete(beat);
    };
  }

  /** Another node's turn started in a watched session: watch its lease. */
  track(sessionId: string, turnId: string, agentId: string): void {
    if (this.#closed) return;
    this.#foreign.set(leaseId(sessionId, turnId, agentId), { sessionId, turnId, agentId, seenAt: Date.now() });
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#check(), this.periodMs);
      this.#timer.unref?.();
    }
  }

  /** A turn ended (by whoever): stop watching it. */
  forget(sessionId: string, turnId: string, agentId: string): void {
    this.#foreign.delete(leaseId(sessionId, turnId, agentId));
    if (this.#foreign.size === 0) this.#stopTimer();
  }

  /** This node stopped watching a session: it would not see its turns end, so it stops tracking them. */
  forgetSession(sessionId: string): void {
    for (const [id, turn] of this.#foreign) if (turn.sessionId === sessionId) this.#foreign.delete(id);
    if (this.#foreign.size === 0) this.#stopTimer();
  }

  close(): void {
    this.#closed = true;
    this.#foreign.clear();
    this.#stopTimer();
    for (const beat of this.#beats) clearInterval(beat);
    this.#beats.clear();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #check(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      for (const [id, turn] of [...this.#foreign]) {
        if (this.#closed) return;
        if (Date.now() - turn.seenAt < this.#seconds * 1000) continue; // its holder may still be creating the lease
        const lease = await this.#store.head(id);
        if (lease.status === 'ok') continue;
        await this.#reap(turn);
        this.#foreign.delete(id);
      }
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#checking = false;
      if (this.#foreign.size === 0) this.#stopTimer();
    }
  }

  /** End an orphaned turn `error`, once across all survivors. */
  async #reap(turn: ForeignTurn): Promise<void> {
    const event = {
      type: 'turn.end',
      turnId: turn.turnId,
      agentId: turn.agentId,
      reason: 'error',
      error: `the server node running this turn stopped (its ${this.#seconds} s lease expired)`,
    };
    await this.#store.append(turn.sessionId, {
      entries: [utf8(JSON.stringify(event))],
      contentType: 'application/json',
      producer: { id: turnProducerId(turn.turnId, turn.agentId), epoch: REAPER_EPOCH, seq: 0 },
    });
  }
}
