/**
 * Snapshots through the real server (HTTP on 127.0.0.1), for each store: a new device starts from
 * the server's snapshot page and pages back with `loadOlder()` to exactly the full fold while an
 * agent streams into the newest turn; it receives O(N latest turns) bytes (counted on the wire);
 * a reader whose offset retention dropped gets 410 and rebuilds from the snapshot.
 * Redis (a real server at REDIS_URL, one key prefix per store) and SQLite (a real file) run it too.
 */
import 'fake-indexeddb/auto';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createDurableSession,
  httpAdapter,
  initialSessionState,
  reduceSession,
  snapshotPaging,
  waitFor,
  type DurableSession,
  type SessionEvent,
  type SessionState,
} from '@durable-session/core';
import { createSessionServer, listen, memoryStore, type SessionServer, type SessionStore } from '@durable-session/server';
import { redisStore } from '@durable-session/redis';
import { sqliteStore } from '@durable-session/sqlite';
import { longSessionEvents, writeLongSession } from './support/long-session.mjs';
import { deleteKeys, REDIS_URL } from './support/redis';

const prefixes: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ds-snapshots-'));
let files = 0;
afterAll(async () => {
  for (const prefix of prefixes) await deleteKeys(prefix);
  rmSync(dir, { recursive: true, force: true });
});

const STORES: { name: string; open(options?: { retention?: { maxEvents: number } }): SessionStore }[] = [
  { name: 'memory', open: (options) => memoryStore(options) },
  {
    name: 'redis',
    open: (options) => {
      const prefix = `test:snapshots:${randomUUID()}:`;
      prefixes.push(prefix);
      return redisStore({ url: REDIS_URL, prefix, ...options });
    },
  },
  { name: 'sqlite', open: (options) => sqliteStore({ path: join(dir, `snapshots-${files++}.db`), ...options }) },
];

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
let n = 0;
const freshId = (name: string): string => `${name}-${process.pid}-${++n}`;
const fold = (events: readonly unknown[]): SessionState => events.reduce<SessionState>((s, e) => reduceSession(s, e as SessionEvent), initialSessionState);

async function start(store: SessionStore): Promise<{ server: SessionServer; baseUrl: string }> {
  const server = createSessionServer({ store, closeTimeoutMs: 1000 });
  const running = await listen(server.handler, { port: 0, host: '127.0.0.1' });
  cleanups.push(async () => {
    await running.close();
    await server.close();
    await store.close();
  });
  return { server, baseUrl: running.url };
}

/** A fetch that counts the bytes of every response body it hands out. */
function countingFetch(): { fetch: typeof fetch; bytes: () => number } {
  let bytes = 0;
  const counted: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (response.body === null) return response;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(counter), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return { fetch: counted, bytes: () => bytes };
}

function device(baseUrl: string, sessionId: string, extra: { turns?: number; fetch?: typeof fetch; persistence?: 'memory' | 'indexeddb'; snapshot?: boolean } = {}): DurableSession {
  const session = createDurableSession({
    sessionId,
    adapter: httpAdapter<SessionEvent>({ baseUrl, ...(extra.fetch ? { fetch: extra.fetch } : {}) }),
    persistence: extra.persistence ?? 'memory',
    tabs: false,
    clientId: 'device-2',
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
    ...(extra.snapshot === false ? {} : { snapshot: snapshotPaging({ turns: extra.turns ?? 10 }) }),
  });
  cleanups.push(() => session.close());
  return session;
}

async function serverLog(store: SessionStore, id: string): Promise<unknown[]> {
  const events: unknown[] = [];
  let from = '-1';
  for (let i = 0; i < 10_000; i++) {
    const r = await store.read(id, { from });
    if (r.status !== 'ok') throw new Error(`read: ${r.status}`);
    events.push(...r.entries.map((e) => JSON.parse(new TextDecoder().decode(e.data)) as unknown));
    if (r.upToDate) return events;
    from = r.next;
  }
  throw new Error('log did not end');
}

describe.each(STORES)('snapshots over HTTP ($name store)', (storeKind) => {
  it('a new device starts from the newest turns, then loadOlder() walks back to the first with nothing lost or repeated while an agent streams', async () => {
    const store = storeKind.open();
    const { server, baseUrl } = await start(store);
    const id = freshId('walk');
    await writeLongSession(store, id, 60, 20);
    const turn = await server.host.session(id).startTurn({ agentId: 'live', turnId: 'newest' });
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing && i < 2000; i++) {
        await turn.write(`x${i} `);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      await turn.end('complete');
    })();

    const client = device(baseUrl, id, { turns: 5 });
    await waitFor(client, (s) => s.status === 'live' && s.turns.length > 0, 10_000);
    expect(client.get().turns.length).toBeLessThanOrEqual(6);
    expect(client.get().olderTurns).toBe(61 - client.get().turns.length);
    for (let i = 0; i < 100 && client.get().olderTurns > 0; i++) {
      await client.loadOlder(7);
      const ids = client.get().turns.map((t) => t.turnId);
      expect(new Set(ids).size).toBe(ids.length);
    }
    expect(client.get().olderTurns).toBe(0);
    writing = false;
    await writer;
    await waitFor(client, (s) => s.turns.at(-1)?.status === 'complete', 10_000);
    const full = fold(await serverLog(store, id));
    expect(client.get().turns.map((t) => t.turnId)).toEqual(full.turns.map((t) => t.turnId));
    expect(client.get().turns).toEqual(full.turns);
    expect(client.get().turns.at(-1)?.text.length).toBeGreaterThan(10);
    // The host refreshed the stored snapshot at the turn's end: it covers the whole log.
    const head = await store.head(id);
    const tail = head.status === 'ok' ? head.stream.tail : '';
    for (let i = 0; i < 100; i++) {
      const r = await store.getSnapshot(id);
      if (r.status === 'ok' && r.snapshot.offset === tail) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const held = await store.getSnapshot(id);
    expect(held.status === 'ok' && held.snapshot.offset).toBe(tail);
  });

  it('a new device on a 1,000-turn session receives O(N latest turns) bytes, not the log', async () => {
    const store = storeKind.open();
    const { baseUrl } = await start(store);
    const bytesOf = async (turns: number, snapshot: boolean): Promise<number> => {
      const id = freshId(`bytes-${turns}`);
      await writeLongSession(store, id, turns, 20);
      const counter = countingFetch();
      const client = device(baseUrl, id, { fetch: counter.fetch, snapshot });
      await waitFor(client, (s) => s.status === 'live' && s.turns.at(-1)?.turnId === `t${turns - 1}`, 30_000);
      expect(client.get().turns.at(-1)).toEqual(fold(longSessionEvents(turns, 20)).turns.at(-1));
      await client.close();
      return counter.bytes();
    };
    const ten = await bytesOf(10, true);
    const thousand = await bytesOf(1000, true);
    const fullLog = await bytesOf(1000, false);
    expect(thousand).toBeLessThan(2 * ten);
    expect(thousand * 50).toBeLessThan(fullLog);
  });

  it('a reader whose offset retention dropped gets 410 and rebuilds from the snapshot', async () => {
    const store = storeKind.open({ retention: { maxEvents: 100 } });
    const { baseUrl } = await start(store);
    const id = freshId('retention');
    const events = await writeLongSession(store, id, 2, 5);
    const first = device(baseUrl, id, { persistence: 'indexeddb' });
    await waitFor(first, (s) => s.status === 'live' && s.turns.length === 2, 10_000);
    await first.close();
    const more = longSessionEvents(40, 10, 'm');
    for (let t = 0; t < 40; t++) {
      const turnEvents = more.filter((e) => e.turnId === `m${t}`);
      await store.append(id, { entries: turnEvents.map((e) => new TextEncoder().encode(JSON.stringify(e))) });
      expect((await fetch(`${baseUrl}/v1/stream/${id}?snapshot`)).status).toBe(200); // what the host does at each turn end
      events.push(...turnEvents);
    }
    expect((await fetch(`${baseUrl}/v1/stream/${id}?offset=-1`)).headers.get('stream-next-offset')).toBeTruthy();
    const second = device(baseUrl, id, { persistence: 'indexeddb' });
    await waitFor(second, (s) => s.status === 'live' && s.recovered === false && s.turns.at(-1)?.turnId === 'm39', 10_000);
    for (let i = 0; i < 20 && second.get().olderTurns > 0; i++) await second.loadOlder();
    expect(second.get().turns).toEqual(fold(events).turns);
  });
});
