import { fileURLToPath } from 'node:url';

const pkg = (name: string): string => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

/** Resolve workspace packages to their sources, so tests never need a build first. */
export const workspaceAlias: Record<string, string> = {
  // Before '@durable-session/core', which would otherwise match it as a prefix.
  '@durable-session/core/websocket': fileURLToPath(new URL('./packages/core/src/websocket.ts', import.meta.url)),
  '@durable-session/core': pkg('core'),
  '@durable-session/server': pkg('server'),
  '@durable-session/react': pkg('react'),
  '@durable-session/vue': pkg('vue'),
  '@durable-session/svelte': pkg('svelte'),
};
