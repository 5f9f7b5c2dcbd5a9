import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineProject } from 'vitest/config';
import { workspaceAlias } from '../../vitest.shared.ts';

export default defineProject({
  plugins: [svelte({ configFile: false }), svelteTesting()],
  resolve: { alias: workspaceAlias },
  test: {
    name: '@durable-session/svelte',
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    // src/*.test-d.ts (type tests) are checked by `npm run typecheck` (the root tsconfig includes them),
    // not by vitest's typecheck mode, which prints an "experimental feature" warning on every run.
  },
});
