import { packageConfig } from '../../tsup.config';

export default packageConfig({
  dts: {
    // Type-check against the server's and core's sources; both stay external imports.
    compilerOptions: {
      paths: { '@durable-session/server': ['../server/src/index.ts'], '@durable-session/core': ['../core/src/index.ts'] },
    },
  },
});
