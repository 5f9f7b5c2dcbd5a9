import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cliPath = fileURLToPath(new URL('../../packages/server/dist/cli.js', import.meta.url));

/**
 * Start the built `durable-session-server` CLI and resolve with its URL once it printed
 * its ready line. Rejects if it exits or stays silent for 20 s. `output()` is everything it
 * printed so far (stdout and stderr).
 */
export function startCli(args: string[]): Promise<{ url: string; process: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`durable-session-server did not start: ${out}`));
    }, 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const match = /durable-session-server listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ url: match[1], process: child, output: () => out });
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
