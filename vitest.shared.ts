import type { PluginOption } from 'vite';
import { defineProject, type UserWorkspaceConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const pkg = (name: string, file = 'index.ts'): string => fileURLToPath(new URL(`./packages/${name}/src/${file}`, import.meta.url));

/** Resolve workspace packages to their sources, so tests never need a build first. */
export const workspaceAlias: Record<string, string> = {
  // Before '@durable-session/core', which would otherwise match it as a prefix.
  '@durable-session/core/websocket': fileURLToPath(new URL('./packages/core/src/websocket.ts', import.meta.url)),
  '@durable-session/core': pkg('core'),
  // before the package itself: an alias also matches every path below its name
  '@durable-session/server/testing': pkg('server', 'store-contract.ts'),
  '@durable-session/server': pkg('server'),
  '@durable-session/redis': pkg('redis'),
  '@durable-session/sqlite': pkg('sqlite'),
  '@durable-session/react': pkg('react'),
  '@durable-session/vue': pkg('vue'),
  '@durable-session/svelte': pkg('svelte'),
};

/**
 * The vitest project of a framework binding: happy-dom and the workspace aliases. Its `.test-d.ts`
 * type tests are checked by `npm run typecheck` (the root tsconfig includes them), not by vitest's
 * typecheck mode, which prints an "experimental feature" warning on every run.
 */
export function bindingProject(name: string, plugins: PluginOption[], include: string[]): UserWorkspaceConfig {
  return defineProject({
    plugins,
    resolve: { alias: workspaceAlias },
    test: {
      name,
      environment: 'happy-dom',
      include,
    },
  });
}
