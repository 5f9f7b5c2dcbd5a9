import type { PluginOption } from 'vite';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const pkg = (name: string): string => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

/** Resolve workspace packages to their sources, so tests never need a build first. */
export const workspaceAlias: Record<string, string> = {
  '@durable-session/core': pkg('core'),
  '@durable-session/server': pkg('server'),
  '@durable-session/react': pkg('react'),
  '@durable-session/vue': pkg('vue'),
  '@durable-session/svelte': pkg('svelte'),
};

/**
 * The vitest project of a framework binding: happy-dom, the workspace aliases, its `.test-d.ts`
 * type tests checked with the package's `tsconfig.typecheck.json`.
 */
export function bindingProject(name: string, plugins: PluginOption[], include: string[]): UserWorkspaceConfig {
  return defineProject({
    plugins,
    resolve: { alias: workspaceAlias },
    test: {
      name,
      environment: 'happy-dom',
      include,
      typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
    },
  });
}
