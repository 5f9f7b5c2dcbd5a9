import vue from '@vitejs/plugin-vue';
import { defineProject } from 'vitest/config';
import { workspaceAlias } from '../../vitest.shared.ts';

export default defineProject({
  plugins: [vue()],
  resolve: { alias: workspaceAlias },
  test: {
    name: '@durable-session/vue',
    environment: 'happy-dom',
    include: ['src/**/*.test.ts'],
    // src/*.test-d.ts (type tests) are checked by `npm run typecheck` (the root tsconfig includes them),
    // not by vitest's typecheck mode, which prints an "experimental feature" warning on every run.
  },
});
