import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cliPath = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url));

/**
 * Start the built `durable-session-server` CLI and resolve with its URL (and its host's node
 * id) once it printed its ready lines. Rejects if it exits or stays silent for 20 s.
 */
export function startCli(args: string[]): Promise<{ url: string; nodeId: string; process: ChildProcess }> {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`durable-session-server did not start: ${out}`));
    }, 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const match = /durable-session-server listening on (http:\/\/\S+)[\s\S]*\nnode: (\S+)/.exec(out);
      if (match?.[1] && match[2]) {
        clearTimeout(timer);
        resolve({ url: match[1], nodeId: match[2], process: child });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`durable-session-server exited with ${code}: ${out}`));
    });
  });
}
