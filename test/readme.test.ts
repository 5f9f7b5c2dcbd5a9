/**
 * The README's client example works as written: it is cut out of README.md, pointed at a
 * freshly started `durable-session-server --demo-agent`, and run with node against the
 * built packages (npm test builds them first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCli } from './support/cli';

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

/** The fenced block right after `<!-- readme-example: NAME -->`. */
function example(name: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- readme-example: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no example named ${name}`);
  return match[1];
}

it('runs the client example from the README', async () => {
  const code = example('client');
  expect(code).toContain('http://127.0.0.1:4437');
  const file = join(dir, 'client.mjs');
  writeFileSync(file, code.replaceAll('http://127.0.0.1:4437', cli.url));
  const run = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  run.stdout.on('data', (d: Buffer) => (out += d.toString()));
  run.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => run.kill('SIGKILL'), 30_000);
  const code_ = await new Promise<number | null>((resolve) => run.on('exit', resolve));
  clearTimeout(timer);
  expect(out).toMatch(/^complete \S+( \S+){11}$/m); // the demo agent answers with 12 words
  expect(code_).toBe(0);
});
