import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZERO_OFFSET, type SessionStore } from '@durable-session/server';
import { redisStore } from './redis-store';
import { deleteKeys, REDIS_URL } from '../../../test/support/redis';

const enc = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const dec = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));

let admin: Redis;
let prefix: string;
let stores: SessionStore[] = [];
beforeEach(() => {
  admin = new Redis(REDIS_URL);
});
afterEach(async () => {
  await Promise.all(stores.map((s) => s.close()));
  stores = [];
  await deleteKeys(prefix);
  admin.disconnect();
});
function open(): SessionStore {
  const store = redisStore({ url: REDIS_URL, prefix });
  stores.push(store);
  return store;
}

/** The CLIENT LIST lines of this test's store connections. */
async function connections(): Promise<Array<{ id: string; name: string; idle: number }>> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .map((line) => Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string])))
    .filter((c) => typeof c.name === 'string' && c.name.startsWith(prefix))
    .map((c) => ({ id: c.id as string, name: c.name as string, idle: Number(c.idle) }));
}

/** Append `value` as producer `p` at `seq`, retrying store failures like the turn writer does. */
async function appendOnce(store: SessionStore, value: unknown, seq: number): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const r = await store.append('s', { entries: [enc(value)], producer: { id: 'writer', epoch: 0, seq } });
      if (r.status === 'appended' || r.status === 'duplicate') return;
      throw new Error(`append refused: ${r.status}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('append refused')) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`append ${seq} never landed`);
}

describe('redisStore over a real Redis', () => {
  it('keys every session under its hash tag and a configurable prefix', async () => {
    prefix = `test:${randomUUID()}:`;
    const store = open();
    await store.create('chat-1', { contentType: 'application/json', entries: [enc(1)] });
    await store.append('chat-1', { entries: [enc(2)], producer: { id: 'p', epoch: 0, seq: 0 } });
    const keys = (await admin.keys(`${prefix}*`)).sort();
    expect(keys).toEqual([`${prefix}{chat-1}:l`, `${prefix}{chat-1}:m`, `${prefix}{chat-1}:p`, `${prefix}{chat-1}:z`]);
    expect(await admin.type(`${prefix}{chat-1}:l`)).toBe('stream');
  });

  it('waits without polling: 20 waiting readers, one subscriber, no command for a second', async () => {
    prefix = `test:${randomUUID()}:`;
    const [a, b] = [open(), open()];
    await a.create('s', { contentType: 'application/json' });
    const waits = Array.from({ length: 20 }, () => b.wait('s', ZERO_OFFSET, new AbortController().signal));
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const mine = await connections();
    expect(mine.filter((c) => c.name === `${prefix}changes`)).toHaveLength(2); // one per store, not per reader
    for (const c of mine) expect(c.idle, c.name).toBeGreaterThanOrEqual(1);
    await a.append('s', { entries: [enc('wake')] });
    expect(await Promise.all(waits)).toEqual(Array.from({ length: 20 }, () => 'changed'));
  });

  it('loses nothing and repeats nothing when its connections are killed mid-stream; readers resume', async () => {
    prefix = `test:${randomUUID()}:`;
    const [writer, reader] = [open(), open()];
    await writer.create('s', { contentType: 'application/json' });
    const seen: unknown[] = [];
    const done = new AbortController();
    const reading = (async () => {
      let from = ZERO_OFFSET;
      while (seen.length < 300 && !done.signal.aborted) {
        try {
          const r = await reader.read('s', { from });
          if (r.status !== 'ok') throw new Error(r.status);
          for (const e of r.entries) seen.push(dec(e.data));
          from = r.next;
          if (r.upToDate && seen.length < 300) await reader.wait('s', from, done.signal);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20)); // a killed connection: read again
        }
      }
    })();
    let kills = 0;
    for (let seq = 0; seq < 300; seq++) {
      if (seq % 60 === 30) {
        for (const c of await connections()) await admin.client('KILL', 'ID', c.id);
        kills++;
      }
      await appendOnce(writer, { seq }, seq);
    }
    const timeout = setTimeout(() => done.abort(), 10_000);
    await reading;
    clearTimeout(timeout);
    expect(kills).toBe(5);
    const log = await reader.read('s', { from: '-1' });
    if (log.status !== 'ok') throw new Error(log.status);
    const expected = Array.from({ length: 300 }, (_, seq) => ({ seq }));
    expect(log.entries.map((e) => dec(e.data))).toEqual(expected);
    expect(seen).toEqual(expected);
  });
});
