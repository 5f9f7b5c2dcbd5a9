import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';
import { workspaceAlias } from '../../vitest.shared';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The built playground app (a temporary folder), for `startPlayground({ staticDir })`. */
    playgroundApp: string;
  }
}

/** Build the playground app once, from the packages' sources, into a temporary folder. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const outDir = await mkdtemp(join(tmpdir(), 'durable-session-playground-'));
  await build({
    configFile: fileURLToPath(new URL('../../playground/vite.config.ts', import.meta.url)),
    logLevel: 'warn',
    resolve: { alias: workspaceAlias },
    build: { outDir, emptyOutDir: true },
  });
  project.provide('playgroundApp', outDir);
  return () => rm(outDir, { recursive: true, force: true });
}
