import { defineConfig } from 'vitest/config';

// One project per package (each has its own vitest.config.ts), the cross-package tests at the top
// of test/, and one project per folder below it (browser, e2e) with its own config.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'test/vitest.config.ts', 'test/*/vitest.config.ts'],
  },
});
