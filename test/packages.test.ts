/**
 * The packages as a user gets them: each is packed with `npm pack`, linted with publint, and the
 * tarballs are installed into a fresh app outside the workspace, where each package is imported
 * from ESM and from CJS and the example in its README is type-checked. Every publishable
 * `packages/*` is covered; npm test builds them first.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installedVersion, packageExample, root, workspacePackages, type WorkspacePackage } from './support/workspace-packages';

const run = promisify(execFile);
const packages = workspacePackages();
let work: string;
let app: string;
const tarballs = new Map<string, { file: string; files: string[] }>();

/** Pack one package; npm pack --json names the tarball and lists what it holds. */
async function pack({ dir, manifest }: WorkspacePackage, destination: string): Promise<void> {
  if (!existsSync(join(dir, 'dist'))) throw new Error(`${manifest.name} is not built: run \`npm run build\` first`);
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', destination], { cwd: dir });
  const [result] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  if (!result) throw new Error(`npm pack printed nothing for ${manifest.name}`);
  tarballs.set(manifest.name, { file: join(destination, result.filename), files: result.files.map((f) => f.path) });
}

/** A fresh app outside the workspace with every tarball, the peers and the types it needs; install scripts run, as in a user's app (native modules such as better-sqlite3 need theirs). */
async function installApp(): Promise<void> {
  const dependencies: Record<string, string> = {};
  for (const [name, { file }] of tarballs) dependencies[name] = `file:${file}`;
  const peers = new Set(packages.flatMap(({ manifest }) => Object.keys(manifest.peerDependencies ?? {})));
  // A peer that is one of our packages (the stores' @durable-session/server) comes from its tarball.
  for (const name of [...peers, '@types/node', '@types/react']) if (!tarballs.has(name)) dependencies[name] = installedVersion(name);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-test-app', private: true, type: 'module', dependencies }, null, 2));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'durable-session-pack-'));
  app = join(work, 'app');
  mkdirSync(app);
  for (const pkg of packages) await pack(pkg, work);
  await installApp();
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Run node in the app; resolves with what it printed, and fails on any warning. */
async function nodeInApp(args: string[]): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, args, { cwd: app });
  expect(stderr).toBe('');
  return stdout;
}

it('covers every package under packages/', () => {
  expect(packages.map((p) => p.manifest.name)).toEqual(expect.arrayContaining(['@durable-session/core', '@durable-session/server']));
});

describe.each(packages.map((p) => [p.manifest.name, p] as const))('%s', (name, { dir, manifest }) => {
  it('is release-ready: README, LICENSE, engines, repository, keywords', () => {
    expect(tarballs.get(name)?.files).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'package.json']));
    expect(readFileSync(join(dir, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(manifest.license).toBe('MIT');
    expect(manifest.engines?.node).toBe('>=20.19');
    expect(manifest.repository).toMatchObject({ type: 'git', directory: dir.slice(root.length) });
    expect(manifest.keywords?.length).toBeGreaterThan(0);
    expect(manifest.description).toBeTruthy();
  });

  it('passes publint --strict', async () => {
    const tarball = readFileSync(tarballs.get(name)!.file);
    const { messages, pkg } = await publint({ strict: true, pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) } });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`)).toEqual([]);
  });

  it('imports from ESM and from CJS in a fresh app, with the same exports', async () => {
    const esm = JSON.parse(await nodeInApp(['--input-type=module', '-e', `console.log(JSON.stringify(Object.keys(await import('${name}')).sort()))`])) as string[];
    const cjs = JSON.parse(await nodeInApp(['--input-type=commonjs', '-e', `console.log(JSON.stringify(Object.keys(require('${name}')).sort()))`])) as string[];
    expect(esm.length).toBeGreaterThan(0);
    expect(cjs).toEqual(esm);
  });
});

it("type-checks each package's README example against the installed tarballs", async () => {
  const src = join(app, 'src');
  mkdirSync(src, { recursive: true });
  for (const { dir, manifest } of packages) {
    const { lang, code } = packageExample(dir);
    writeFileSync(join(src, `${manifest.name.split('/').pop()}.${lang === 'tsx' ? 'tsx' : 'ts'}`), `${code}\nexport {};\n`);
  }
  const compilerOptions = { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', jsx: 'react-jsx', lib: ['ES2022', 'DOM'], types: ['node'], skipLibCheck: false };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? String(error) }));
  expect(result.stdout).toBe('');
});
