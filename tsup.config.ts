import { defineConfig, type Options } from 'tsup';

/**
 * Shared build for every package: ESM + CJS + .d.ts with sourcemaps.
 * Each package's own tsup.config.ts calls this with its entry points.
 */
export function packageConfig(overrides: Options = {}): ReturnType<typeof defineConfig> {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    treeshake: true,
    target: 'es2022',
    ...overrides,
  });
}
