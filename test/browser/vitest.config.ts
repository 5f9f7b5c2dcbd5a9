import { defineProject } from 'vitest/config';
import { workspaceAlias } from '../../vitest.shared.ts';

// Real Chromium (the system's, see test/support/chromium.ts) driven by playwright-core, against our server on 127.0.0.1.
export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    name: 'browser',
    environment: 'node',
    include: ['**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
