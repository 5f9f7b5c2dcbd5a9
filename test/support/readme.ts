import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli';

/** The fenced block right after `<!-- readme-example: NAME -->` in README.md. */
export function readmeExample(name: string): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- readme-example: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no example named ${name}`);
  return match[1];
}

/** A README example running as an .mjs file. */
export interface RunningExample {
  /** Its exit code and output; with `until`, resolves (code `null`) as soon as the output matches. */
  done: Promise<{ code: number | null; out: string }>;
  stop(): void;
}

/**
 * Run `code` (a README example, already adapted) as `dir/name.mjs` with node. `dir` must be inside
 * the repository so that node resolves `@durable-session/*` and the frameworks from its
 * node_modules. Killed after 30 s.
 */
export function runExampleCode(dir: string, name: string, code: string, until?: RegExp): RunningExample {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, code);
  const run = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const timer = setTimeout(() => run.kill('SIGKILL'), 30_000);
  const done = new Promise<{ code: number | null; out: string }>((resolve) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (until?.test(out)) resolve({ code: null, out });
    };
    run.stdout.on('data', onData);
    run.stderr.on('data', onData);
    run.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, out });
    });
  });
  return { done, stop: () => run.kill('SIGTERM') };
}
