// What a user sees when they stop what they started, or start it on a taken port. The top process
// is npm (npm → sh → node, or npm → npm → node): a SIGTERM sent to it must stop the server too.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { accepts, repoRoot, startCommand, type Started } from './support/cli';

const CLI_READY = /durable-session-server listening on (http:\/\/\S+)/;
const PLAYGROUND_READY = /durable-session playground on (http:\/\/\S+)/;
const running: ChildProcess[] = [];

/** Start in its own process group (as a terminal does), so that cleanup can end all of it. */
async function start(command: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  const started = await startCommand(command, args, ready, env, true);
  running.push(started.process);
  return started;
}

/**
 * Signal the top process (or, for `group`, its whole process group, as Ctrl-C in a terminal
 * does), give it 10 s to exit, then the port 5 s to close.
 */
async function stopAndCheckPort({ url, process: top }: Started, signal: NodeJS.Signals, group = false): Promise<boolean> {
  expect(await accepts(url)).toBe(true);
  const exited = once(top, 'exit');
  if (group) process.kill(-top.pid!, signal);
  else top.kill(signal);
  const timedOut = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
  if (timedOut) throw new Error(`${signal} did not stop the top process within 10 s`);
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(100)) {
    if (!(await accepts(url))) return true;
  }
  return false;
}

async function takenPort(): Promise<{ port: number; server: Server }> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, server };
}

async function exitOf(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output };
}

// A failed test must not leave its server behind: end every process of each started group.
afterEach(() => {
  for (const child of running.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // the group is already gone: nothing is left to stop
    }
  }
});

describe('npx --no-install durable-session-server (npm → sh → node)', () => {
  it('stops and releases its port on SIGTERM to the npx process (kill -TERM)', async () => {
    const cli = await start('npx', ['--no-install', 'durable-session-server', '--port', '0'], CLI_READY);
    expect(await stopAndCheckPort(cli, 'SIGTERM')).toBe(true);
  });

  it('stops and releases its port on Ctrl-C (SIGINT to the process group)', async () => {
    const cli = await start('npx', ['--no-install', 'durable-session-server', '--port', '0'], CLI_READY);
    expect(await stopAndCheckPort(cli, 'SIGINT', true)).toBe(true);
  });

  it('exits non-zero with a hint when the port is taken', async () => {
    const { port, server } = await takenPort();
    try {
      const { code, output } = await exitOf('npx', ['--no-install', 'durable-session-server', '--port', String(port)], process.env);
      expect(code).not.toBe(0);
      expect(output).toContain(`port ${port} is taken: pass another with --port`);
    } finally {
      server.close();
    }
  });
});

describe('the playground server under npm (npm run serve, the tail of npm start)', () => {
  it('stops and releases its port on SIGTERM to the npm process', async () => {
    const playground = await start('npm', ['run', 'serve', '-w', '@durable-session/playground'], PLAYGROUND_READY, { ...process.env, PORT: '0' });
    expect(await stopAndCheckPort(playground, 'SIGTERM')).toBe(true);
  });

  it('stops and releases its port on SIGINT to the npm process', async () => {
    const playground = await start('npm', ['run', 'serve', '-w', '@durable-session/playground'], PLAYGROUND_READY, { ...process.env, PORT: '0' });
    expect(await stopAndCheckPort(playground, 'SIGINT')).toBe(true);
  });

  it('exits non-zero with a hint when the port is taken', async () => {
    const { port, server } = await takenPort();
    try {
      const { code, output } = await exitOf('npm', ['run', 'serve', '-w', '@durable-session/playground'], { ...process.env, PORT: String(port) });
      expect(code).not.toBe(0);
      expect(output).toContain('the port is taken: set PORT');
    } finally {
      server.close();
    }
  });
});
