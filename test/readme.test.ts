/**
 * The README's examples work as written: they are cut out of README.md and run with node
 * against the built packages (npm test builds them first). The client example talks to a
 * freshly started `durable-session-server --demo-agent`, then to the README's own server example.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { startCli } from './support/cli';
import { readmeExample, runExampleCode, type RunningExample } from './support/readme';

const root = fileURLToPath(new URL('..', import.meta.url));
let cli: { url: string; process: ChildProcess };
let dir: string;

beforeAll(async () => {
  cli = await startCli(['--port', '0', '--demo-agent']);
  // Inside the repository, so that node resolves @durable-session/* from its node_modules.
  dir = mkdtempSync(join(root, 'test', '.readme-'));
});
afterAll(() => {
  cli?.process.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const example = readmeExample;

/** Run a README example against `url` (the CLI's, or the server example's). */
function runExample(name: string, url: string, until?: RegExp): RunningExample {
  const socketUrl = url.replace(/^http/, 'ws');
  const code = example(name).replaceAll('http://127.0.0.1:4437', url).replaceAll('ws://127.0.0.1:4437', socketUrl).replace('port: 4437', 'port: 0');
  return runExampleCode(dir, name, code, until);
}

it('runs the client example against the CLI demo agent', async () => {
  expect(example('client')).toContain('http://127.0.0.1:4437');
  const { code, out } = await runExample('client', cli.url).done;
  expect(out).toMatch(/^complete \S+( \S+){11}$/m); // the demo agent answers with 12 words
  expect(code).toBe(0);
});

it('runs the server example, and the client example against it', async () => {
  const server = runExample('server', '', /listening on (http:\/\/\S+)/);
  try {
    const ready = await server.done;
    const url = /listening on (http:\/\/\S+)/.exec(ready.out)?.[1];
    expect(url, ready.out).toBeDefined();
    const { code, out } = await runExample('client', url as string).done;
    expect(out).toMatch(/^complete You said: Explain durable sessions in 12 words\s*$/m);
    expect(code).toBe(0);
  } finally {
    server.stop();
  }
});

it('runs the client example with no server: it prints why and ends', async () => {
  const closed = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => closed.once('listening', resolve));
  const { port } = closed.address() as { port: number };
  await new Promise((resolve) => closed.close(resolve)); // a port nothing listens on
  const { code, out } = await runExample('client', `http://127.0.0.1:${port}`).done;
  expect(out).toContain('cannot reach the session server: fetch failed');
  expect(code).toBe(0); // it ended by itself, well before the 30 s kill
});

it('runs the WebSocket client example against the CLI demo agent: two sessions over one socket', async () => {
  expect(example('websocket-client')).toContain('ws://127.0.0.1:4437/v1/socket');
  const { code, out } = await runExample('websocket-client', cli.url).done;
  expect(out.match(/^complete \S+( \S+){7}$/gm)).toHaveLength(2); // the demo agent answers each with 8 words
  expect(code).toBe(0);
});
