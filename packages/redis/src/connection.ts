import type { Redis } from 'ioredis';

/**
 * Why the Redis store failed a call: `connection-lost` (the connection dropped before the
 * reply came; the call may or may not have been applied, so retry appends with an idempotent
 * producer), `bad-reply` (a script answered something unexpected).
 * @example
 * try { await store.append(id, options); } catch (e) { if (e instanceof RedisStoreError && e.code === 'connection-lost') retry(); }
 */
export class RedisStoreError extends Error {
  override readonly name = 'RedisStoreError';
  constructor(
    readonly code: 'connection-lost' | 'bad-reply',
    message: string,
  ) {
    super(message);
  }
}

type ScriptCall = (...args: Array<string | Uint8Array>) => Promise<Buffer[]>;

/**
 * The command connection. It never resends a command that was written to a connection that
 * then dropped (ioredis would, and an append without a producer would land twice): such calls
 * reject with `connection-lost`. Calls made while disconnected wait in the offline queue and
 * are sent once, after the reconnect.
 */
export class RedisConnection {
  readonly #redis: Redis;
  readonly #inFlight = new Set<(error: Error) => void>();

  constructor(redis: Redis, onError: (error: unknown) => void) {
    this.#redis = redis;
    redis.on('error', (error: unknown) => {
      if (this.#redis.status !== 'reconnecting' && this.#redis.status !== 'connecting') onError(error);
    });
    redis.on('close', () => {
      const lost = new RedisStoreError('connection-lost', 'the connection to Redis dropped before the reply');
      for (const reject of [...this.#inFlight]) reject(lost);
      this.#inFlight.clear();
    });
  }

  /** Run a script defined with `defineCommand` (by name), replies as buffers. */
  script(name: string, keys: readonly string[], argv: ReadonlyArray<string | Uint8Array>): Promise<Buffer[]> {
    const call = (this.#redis as unknown as Record<string, ScriptCall>)[`${name}Buffer`];
    if (call === undefined) return Promise.reject(new RedisStoreError('bad-reply', `no script ${name}`));
    const run = (): Promise<Buffer[]> => call.call(this.#redis, ...keys, ...argv.map(asBuffer));
    if (this.#redis.status !== 'ready') return run(); // queued offline: written once, after the reconnect
    return new Promise<Buffer[]>((resolve, reject) => {
      this.#inFlight.add(reject);
      run().then(
        (reply) => {
          this.#inFlight.delete(reject);
          resolve(reply);
        },
        (error: unknown) => {
          this.#inFlight.delete(reject);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  async quit(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }
}

function asBuffer(value: string | Uint8Array): string | Buffer {
  return typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
