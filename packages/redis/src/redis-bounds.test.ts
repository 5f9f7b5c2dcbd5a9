import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from './redis-store';
import { deleteKeys, REDIS_URL } from '../../../test/support/redis';

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe('redisStore tombstones', () => {
  it('a tombstone lasts tombstoneTtlMs (a key Redis drops), then head says not-found', async () => {
    const prefix = `test:${randomUUID()}:`;
    const store = redisStore({ url: REDIS_URL, prefix, tombstoneTtlMs: 200 });
    try {
      await store.create('a', { contentType: 'application/json', entries: [json(1)] });
      expect(await store.delete('a')).toBe('deleted');
      expect((await store.head('a')).status).toBe('deleted');
      const admin = new Redis(REDIS_URL);
      const ttl = await admin.pttl(`${prefix}{a}:t`);
      admin.disconnect();
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(200);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await store.head('a')).status).toBe('not-found');
    } finally {
      await store.close();
      await deleteKeys(prefix);
    }
  });
});

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

// Redis's own maxmemory is the Redis store's store-wide bound: a private redis-server with a
// small one, so the shared Redis is never filled.
describe('redisStore at Redis maxmemory', () => {
  let server: ChildProcess | undefined;
  let url = '';
  beforeAll(async () => {
    const port = await freePort();
    url = `redis://127.0.0.1:${port}`;
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory', '3mb', '--maxmemory-policy', 'noeviction'], { stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${String(code)}: ${out}`));
      });
    });
  });
  afterAll(async () => {
    const child = server;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  it('answers store-full (429) when Redis refuses writes, not an internal error', async () => {
    const store = redisStore({ url, prefix: 'oom:' });
    try {
      await store.create('a', { contentType: 'application/octet-stream' });
      const chunk = new Uint8Array(256 * 1024).fill(120);
      let failure: unknown;
      for (let i = 0; i < 40 && failure === undefined; i++) {
        await store.append('a', { entries: [chunk] }).catch((error: unknown) => {
          failure = error;
        });
      }
      expect(failure).toMatchObject({ code: 'store-full' });
      expect((await store.head('a')).status).toBe('ok'); // reads still work
    } finally {
      await store.close();
    }
  });
});
