import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

/** The parts of a package.json the release checks read. */
export interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  description?: string;
  keywords?: string[];
  license?: string;
  engines?: { node?: string };
  repository?: { type: string; url: string; directory?: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** A publishable workspace package: every `packages/<dir>` whose package.json is not private. */
export interface WorkspacePackage {
  dir: string;
  manifest: Manifest;
}

/** Every publishable package under `packages/`, so that a new package is covered without a list. */
export function workspacePackages(): WorkspacePackage[] {
  const base = join(root, 'packages');
  return readdirSync(base)
    .map((name) => join(base, name))
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest }))
    .filter(({ manifest }) => manifest.private !== true)
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

/** The fenced block right after `<!-- package-example -->` in a package's README, with its language. */
export function packageExample(dir: string): { lang: string; code: string } {
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  const match = /<!-- package-example -->\s*```(\w+)\n([\s\S]*?)```/.exec(readme);
  if (!match?.[1] || !match[2]) throw new Error(`${join(dir, 'README.md')} has no <!-- package-example --> block`);
  return { lang: match[1], code: match[2] };
}

/** The version of `name` installed in the workspace (what the npm cache surely holds). */
export function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as Manifest).version;
}
