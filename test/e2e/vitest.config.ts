import { defineProject } from 'vitest/config';
import { workspaceAlias } from '../../vitest.shared.ts';

// End-to-end: the playground app (built once, in global-setup.ts) and its server, driven in
// Debian's Chromium through playwright-core. One file at a time: each starts a server and a browser.
export default defineProject({
  resolve: { alias: workspaceAlias },
  test: {
    name: 'e2e',
    environment: 'node',
    include: ['*.test.ts'],
    globalSetup: ['./global-setup.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 180_000,
  },
});
