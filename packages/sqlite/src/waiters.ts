import type { WaitOutcome } from '@durable-session/server';

interface Waiter {
  owner: object;
  after: number;
  finish: (outcome: WaitOutcome) => void;
}

const registries = new Map<string, Waiters>();

/**
 * The readers waiting on one database file, shared by every store this process opened on it,
 * so an append through one wakes readers of all of them (woken by the append, never by a timer).
 * Writers in other processes do not wake them: the SQLite store is the store for one node.
 */
export class Waiters {
  readonly #byStream = new Map<string, Set<Waiter>>();
  #stores = 0;

  private constructor(readonly path: string) {}

  /** The registry of a database file (by its canonical path). */
  static of(path: string): Waiters {
    let registry = registries.get(path);
    if (registry === undefined) {
      registry = new Waiters(path);
      registries.set(path, registry);
    }
    registry.#stores++;
    return registry;
  }

  /** Resolve once `id` grows past `after`, closes or goes, or `signal` aborts. */
  wait(owner: object, id: string, after: number, signal: AbortSignal): Promise<WaitOutcome> {
    return new Promise<WaitOutcome>((resolve) => {
      let set = this.#byStream.get(id);
      if (set === undefined) {
        set = new Set();
        this.#byStream.set(id, set);
      }
      const waiters = set;
      const waiter: Waiter = {
        owner,
        after,
        finish: (outcome) => {
          waiters.delete(waiter);
          if (waiters.size === 0 && this.#byStream.get(id) === waiters) this.#byStream.delete(id);
          signal.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      const onAbort = (): void => waiter.finish('aborted');
      waiters.add(waiter);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** `id` now ends at `tail` (and is `closed`). */
  changed(id: string, tail: number, closed: boolean): void {
    for (const waiter of [...(this.#byStream.get(id) ?? [])]) if (closed || tail > waiter.after) waiter.finish('changed');
  }

  /** `id` was deleted or expired. */
  deleted(id: string): void {
    for (const waiter of [...(this.#byStream.get(id) ?? [])]) waiter.finish('not-found');
  }

  /** A store closed: its waiters end `aborted`; the registry goes with the last store. */
  abortAll(owner: object): void {
    for (const set of [...this.#byStream.values()]) for (const waiter of [...set]) if (waiter.owner === owner) waiter.finish('aborted');
    if (--this.#stores === 0) registries.delete(this.path);
  }
}
