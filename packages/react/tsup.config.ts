import { packageConfig } from '../../tsup.config';

// Rollup's tree-shaking pass (treeshake: true) drops module-level directives such as
// 'use client'; esbuild keeps the entry's directive. This package is one module, so
// esbuild's own tree-shaking is enough. (A `banner` would be dropped by rollup too.)
export default packageConfig({ treeshake: false });
