/**
 * The SQLite store survives its process: the CLI is kill -9ed mid-answer and restarted on the
 * same file and port; a client reloading from IndexedDB resumes from its saved offset with
 * `recovered: true`, nothing acknowledged is lost or repeated, and the restarted node ends the turn
 * its previous process left unfinished.
 * Build first: `npm run build`.
 */
import 'fake-indexeddb/auto';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createDurableSession, httpAdapter, waitFor, type DurableSession, type SessionEvent, type SessionSnapshot } from '@durable-session/core';
import { startCli } from './support/cli';
import { sessionLog as log } from './support/session-log';

const dir = mkdtempSync(join(tmpdir(), 'ds-sqlite-restart-'));
const children: ChildProcess[] = [];
const clients: DurableSession[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function start(port: number): Promise<ChildProcess> {
  const cli = await startCli(['--port', String(port), '--store', `sqlite:${join(dir, 'sessions.db')}`, '--demo-agent', '--demo-delay', '10', '--turn-lease', '1']);
  children.push(cli.process);
  return cli.process;
}

function client(sessionId: string, baseUrl: string, fetchImpl: typeof fetch = fetch): DurableSession {
  const adapter = httpAdapter<SessionEvent>({ baseUrl, live: 'sse', fetch: fetchImpl });
  const c = createDurableSession({ sessionId, adapter, persistence: 'indexeddb', clientId: 'reloader', reconnect: { initialDelayMs: 10, maxDelayMs: 200 } });
  clients.push(c);
  return c;
}

const turnOf = (s: SessionSnapshot, turnId: string) => s.turns.find((t) => t.turnId === turnId);
const textOf = (events: SessionEvent[], turnId: string) => events.map((e) => (e.type === 'delta' && e.turnId === turnId ? e.text : '')).join('');

it('kill -9 mid-answer, restart on the same file: the client resumes with recovered: true, nothing lost or repeated', async () => {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const sessionId = `restart-${process.pid}`;
  const first = await start(port);
  const before = client(sessionId, baseUrl);
  const seen: SessionEvent[] = [];
  before.on('event', ({ event }) => seen.push(event));
  const turnId = await before.send('answer with 2000 words');
  await waitFor(before, (s) => (turnOf(s, turnId)?.text.length ?? 0) > 100, 20_000);

  const exited = new Promise((resolve) => first.once('exit', resolve));
  first.kill('SIGKILL');
  await exited;
  await before.close(); // a closed tab: what it saved in IndexedDB is what the reload starts from
  const acknowledged = [...seen]; // every event it saw, the server had acknowledged

  await start(port);
  const afterRestart = await log(baseUrl, sessionId);
  expect(afterRestart.slice(0, acknowledged.length)).toEqual(acknowledged); // nothing it saw was lost
  const text = textOf(afterRestart, turnId);
  expect(text.length).toBeGreaterThanOrEqual(textOf(acknowledged, turnId).length);
  expect(new Set(afterRestart.filter((e) => e.type === 'turn.start').map((e) => e.turnId)).size).toBe(1);

  const firstOffsets: string[] = [];
  const recording: typeof fetch = async (input, init) => {
    if ((init?.method ?? 'GET') === 'GET') firstOffsets.push(new URL(String(input)).searchParams.get('offset') ?? '');
    return fetch(input, init);
  };
  const reloaded = client(sessionId, baseUrl, recording);
  const resumed = await waitFor(reloaded, (s) => s.resumed && s.status === 'live', 20_000);
  expect(resumed.recovered).toBe(true);
  expect(firstOffsets[0]).not.toBe('-1'); // it read from its saved offset, not from the start
  expect(turnOf(reloaded.get(), turnId)?.text).toBe(text); // nothing repeated, nothing missing
  // The turn the killed process left unfinished is ended by the restarted one, once its lease lapsed.
  const reaped = await waitFor(reloaded, (s) => turnOf(s, turnId)?.status === 'error', 20_000);
  expect(turnOf(reaped, turnId)?.text).toBe(text);
  expect((await log(baseUrl, sessionId)).filter((e) => e.type === 'turn.end')).toEqual([
    { type: 'turn.end', turnId, agentId: 'demo', reason: 'error', error: expect.stringContaining('lease expired') },
  ]);

  // The restarted node serves the session on: a new prompt is answered.
  const next = await reloaded.send('answer with 5 words');
  const done = await waitFor(reloaded, (s) => turnOf(s, next)?.status === 'complete', 20_000);
  expect(turnOf(done, next)?.text.split(' ')).toHaveLength(5);
});
