import { packageConfig } from '../../tsup.config';

// src/cli.ts starts with `#!/usr/bin/env node`: esbuild keeps it and tsup marks dist/cli.js executable.
export default packageConfig({
  entry: ['src/index.ts', 'src/cli.ts', 'src/store-contract.ts'],
  // Loaded by name at run time (openStore), never bundled: the server depends on neither.
  external: ['@durable-session/redis', '@durable-session/sqlite'],
  dts: {
    entry: ['src/index.ts', 'src/store-contract.ts'],
    // Type-check against core's sources, so the build does not depend on core's dist;
    // `@durable-session/core` stays an external import in the emitted .d.ts.
    compilerOptions: { paths: { '@durable-session/core': ['../core/src/index.ts'] } },
  },
});
