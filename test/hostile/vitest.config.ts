import { defineProject } from 'vitest/config';
import { workspaceAlias } from '../../vitest.shared.ts';

// Attacks from issue 10 against the built CLI (and the handler in-process where faster):
// each asserts the status, that the server still serves, and that acknowledged events are intact.
export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    name: 'hostile',
    environment: 'node',
    include: ['**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
