import type { Redis } from 'ioredis';
import type { WaitOutcome } from '@durable-session/server';

/** One waiting reader: resolved once the stream grows past `after` (a position), closes or goes. */
interface Waiter {
  after: number;
  finish: (outcome: WaitOutcome) => void;
}

/**
 * Every store process subscribes once to one channel on which the append and delete scripts
 * announce `<sessionId>\n<tail>\n<closed>` or `<sessionId>\ndeleted`, and fans each message out
 * to its waiting readers in memory: one Redis connection per process, never one per reader.
 * After the subscriber reconnects (messages may have been missed meanwhile) every waiter is
 * checked again against the store.
 */
export class ChangeFeed {
  readonly #subscriber: Redis;
  readonly #channel: string;
  readonly #recheck: (id: string, after: number) => Promise<WaitOutcome | undefined>;
  readonly #onError: (error: unknown) => void;
  readonly #waiters = new Map<string, Set<Waiter>>();
  #subscribed: Promise<void>;
  #reconnecting = false;

  constructor(options: {
    subscriber: Redis;
    channel: string;
    recheck: (id: string, after: number) => Promise<WaitOutcome | undefined>;
    onError: (error: unknown) => void;
  }) {
    this.#subscriber = options.subscriber;
    this.#channel = options.channel;
    this.#recheck = options.recheck;
    this.#onError = options.onError;
    this.#subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.#channel) this.#deliver(message);
    });
    this.#subscriber.on('close', () => {
      this.#reconnecting = true;
    });
    this.#subscriber.on('ready', () => {
      if (!this.#reconnecting) return;
      this.#reconnecting = false;
      this.#subscribed = this.#subscribe();
      void this.#subscribed.then(() => this.#recheckAll(), this.#onError);
    });
    this.#subscribed = this.#subscribe();
    this.#subscribed.catch(() => undefined); // reported to the first wait that needs it
  }

  /** Resolves once the subscription is in place (an append after that reaches our waiters). */
  ready(): Promise<void> {
    return this.#subscribed;
  }

  /** Register a waiter; returns the function that removes it. */
  add(id: string, waiter: Waiter): () => void {
    let set = this.#waiters.get(id);
    if (set === undefined) {
      set = new Set();
      this.#waiters.set(id, set);
    }
    set.add(waiter);
    return () => {
      const current = this.#waiters.get(id);
      current?.delete(waiter);
      if (current?.size === 0) this.#waiters.delete(id);
    };
  }

  /** Wake every waiter with `outcome` (the store is closing). */
  wakeAll(outcome: WaitOutcome): void {
    for (const set of [...this.#waiters.values()]) for (const waiter of [...set]) waiter.finish(outcome);
  }

  #subscribe(): Promise<void> {
    return this.#subscriber.subscribe(this.#channel).then(() => undefined);
  }

  #deliver(message: string): void {
    const [id, tail, closed] = message.split('\n');
    if (id === undefined) return;
    const set = this.#waiters.get(id);
    if (set === undefined) return;
    for (const waiter of [...set]) {
      if (tail === 'deleted') waiter.finish('not-found');
      else if (Number(tail) > waiter.after || closed === '1') waiter.finish('changed');
    }
  }

  #recheckAll(): void {
    for (const [id, set] of this.#waiters) {
      for (const waiter of [...set]) {
        this.#recheck(id, waiter.after).then((outcome) => {
          if (outcome !== undefined) waiter.finish(outcome);
        }, this.#onError);
      }
    }
  }
}
