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
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.typecheck.json' },
  },
});
