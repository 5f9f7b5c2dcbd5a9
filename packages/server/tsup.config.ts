import { packageConfig } from '../../tsup.config';

// src/cli.ts starts with `#!/usr/bin/env node`: esbuild keeps it and tsup marks dist/cli.js executable.
export default packageConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  dts: {
    entry: 'src/index.ts',
    // Type-check against the wire model's source, so the build does not need core's dist;
    // `@durable-session/core` stays an external (type-only) import in the emitted .d.ts.
    compilerOptions: { paths: { '@durable-session/core': ['../core/src/events.ts'] } },
  },
});
