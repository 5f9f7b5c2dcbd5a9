/**
 * The memory bound of issue 10: the CLI under 30 POSTs of a 1 MB array of `1`s (main: 1.26 GB
 * after 5, out of memory after 30 and a catch-up GET), then 30 MB of valid events and a
 * catch-up read, stays under 512 MB RSS and answers the next request.
 */
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCli } from '../support/cli';
import { client, codeOf } from './support';

const BOUND_MB = 512;
let cli: Awaited<ReturnType<typeof startCli>>;

beforeAll(async () => {
  cli = await startCli(['--port', '0']);
});
afterAll(async () => {
  if (cli.process.exitCode !== null) return;
  const exited = new Promise((r) => cli.process.once('exit', r));
  cli.process.kill('SIGTERM');
  await exited;
});

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 'NaN') / 1024;
}

it(`stays under ${BOUND_MB} MB RSS under 30 × 1 MB of attack and 30 MB of valid events, and answers the next request`, async () => {
  const api = client(cli.url);
  const pid = cli.process.pid as number;
  await api.put('victim');
  expect((await api.post('victim', { type: 'note', text: 'acknowledged' })).status).toBe(204);
  const ones = `[${Array.from({ length: 524_000 }, () => '1').join(',')}]`; // just under 1 MiB
  let peak = rssMb(pid);
  for (let i = 0; i < 30; i++) {
    const res = await api.post('victim', ones);
    expect(res.status).toBe(413); // more events than one append may hold, refused before any is stored
    expect(await codeOf(res)).toBe('too-many-events');
    peak = Math.max(peak, rssMb(pid));
  }
  const event = { type: 'note', text: 'x'.repeat(10_000) };
  for (let i = 0; i < 30; i++) {
    expect((await api.post(`valid-${i % 3}`, Array.from({ length: 100 }, () => event))).status).toBe(i < 3 ? 404 : 204);
    if (i === 2) for (let k = 0; k < 3; k++) await api.put(`valid-${k}`);
    peak = Math.max(peak, rssMb(pid));
  }
  for (let k = 0; k < 3; k++) expect((await api.events(`valid-${k}`)).length).toBe(900);
  peak = Math.max(peak, rssMb(pid));
  expect(peak, `peak RSS ${peak.toFixed(0)} MB`).toBeLessThan(BOUND_MB);
  expect(await api.events('victim')).toEqual([{ type: 'note', text: 'acknowledged' }]);
  await api.healthy();
});

it(`stays under ${BOUND_MB} MB RSS with 500 SSE readers that stopped reading (main: ~0.8-0.9 GB), and answers the next request`, async () => {
  const api = client(cli.url);
  const pid = cli.process.pid as number;
  const event = { type: 'note', text: 'x'.repeat(9000) };
  for (let k = 0; k < 10; k++) {
    await api.put(`stalled-${k}`);
    for (let i = 0; i < 6; i++) expect((await api.post(`stalled-${k}`, Array.from({ length: 100 }, () => event))).status).toBe(204);
  }
  const { port } = new URL(cli.url);
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < 500; i++) {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`GET /v1/stream/stalled-${i % 10}?offset=-1&live=sse HTTP/1.1\r\nHost: x\r\n\r\n`);
        socket.pause(); // never reads
      });
      socket.on('error', () => undefined);
      sockets.push(socket);
    }
    let peak = 0;
    for (let t = 0; t < 12; t++) {
      await new Promise((r) => setTimeout(r, 500));
      peak = Math.max(peak, rssMb(pid));
    }
    expect(peak, `peak RSS ${peak.toFixed(0)} MB`).toBeLessThan(BOUND_MB);
    await api.healthy();
  } finally {
    for (const socket of sockets) socket.destroy();
  }
});
