import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

const cliPath = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url));
/** The repository root: where a user types `npm start` or `npx durable-session-server`. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A started command and the URL it printed. */
export interface Started {
  url: string;
  process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
}

/**
 * Spawn `command` in the repository root and resolve once its output matches `ready` (whose first
 * group is the URL). Rejects if it exits first or says nothing matching for 20 s. `detached` gives
 * it its own process group, as a terminal gives each command line.
 */
export function startCommand(command: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env, detached = false): Promise<Started> {
  const child = spawn(command, args, { cwd: repoRoot, env, detached, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not start: ${out}`));
    }, 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const match = ready.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], process: child, output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${out}`));
    });
  });
}

/** A started CLI: its URL and its host's node id. */
export interface StartedCli extends Started {
  nodeId: string;
}

/**
 * Start the built `durable-session-server` CLI and resolve with its URL (and its host's node
 * id) once it printed its ready lines. Rejects if it exits or stays silent for 20 s.
 */
export async function startCli(args: string[]): Promise<StartedCli> {
  const started = await startCommand(process.execPath, [cliPath, ...args], /durable-session-server listening on (http:\/\/\S+)[\s\S]*\nnode: \S+\n/);
  const nodeId = /\nnode: (\S+)\n/.exec(started.output())?.[1] ?? '';
  return { ...started, nodeId };
}

/** Does anything accept TCP connections at `url`'s host and port? */
export function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
