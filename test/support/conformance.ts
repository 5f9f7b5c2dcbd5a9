/**
 * The peer's conformance suite (@durable-streams/server-conformance-tests) against our
 * server, run as users run it: the built CLI on a free port of 127.0.0.1 with a `--store`.
 * `--generic-streams`: every JSON stream is a session stream by default, and the suite appends arbitrary JSON.
 * Build first: `npm run build` (the server, and the store packages the CLI loads).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runConformanceTests } from '@durable-streams/server-conformance-tests';
import { afterAll, beforeAll, describe } from 'vitest';

const CLI = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url));
const READY = /^durable-session-server listening on (http:\/\/\S+)$/m;
// Implementation-defined (PROTOCOL.md §5.7). Short, so the suite's 204-timeout paths run quickly.
const LONG_POLL_TIMEOUT_MS = 3000;

/** A store to run the suite on: its `--store` value and what to remove afterwards. */
export interface StoreUnderTest {
  name: string;
  setting: string;
  cleanup: () => Promise<void>;
}

/** Register the whole conformance suite against the CLI started with `store`. */
export function runConformanceAgainst(store: StoreUnderTest): void {
  describe(`durable-session-server conformance (--store ${store.name})`, () => conformanceAgainst(store));
}

function conformanceAgainst(store: StoreUnderTest): void {
  const config = { baseUrl: '', longPollTimeoutMs: LONG_POLL_TIMEOUT_MS };
  let server: ChildProcess | undefined;
  let stderr = '';

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
    const args = ['--port', '0', '--host', '127.0.0.1', '--long-poll-timeout', String(LONG_POLL_TIMEOUT_MS), '--store', store.setting, '--generic-streams'];
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    server = child;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    config.baseUrl = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`the server did not start in 10 s:\n${stdout}${stderr}`)), 10_000);
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const url = READY.exec(stdout)?.[1];
        if (url !== undefined) {
          clearTimeout(timer);
          resolve(url);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the server exited with ${String(code)} before it was ready:\n${stdout}${stderr}`));
      });
    });
  });

  afterAll(async () => {
    const child = server;
    try {
      if (child === undefined || child.exitCode !== null) return;
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`the server exited with ${String(code)} on SIGTERM:\n${stderr}`);
      // The server reports unexpected failures (500s, crashed responses) on stderr: the suite must cause none.
      if (stderr !== '') throw new Error(`the server reported errors during the suite:\n${stderr}`);
    } finally {
      await store.cleanup();
    }
  });

  // The suite skips 6 tests itself: "Reserved subscription APIs" (webhook subscriptions) runs only
  // with `subscriptions: true`, an optional part of Durable Streams this server does not implement.
  // The README's "Quick start" names them.
  runConformanceTests(config);
}

