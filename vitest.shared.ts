import { fileURLToPath } from 'node:url';

const pkg = (name: string, file = 'index.ts'): string => fileURLToPath(new URL(`./packages/${name}/src/${file}`, import.meta.url));

/** Resolve workspace packages to their sources, so tests never need a build first. */
export const workspaceAlias: Record<string, string> = {
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
