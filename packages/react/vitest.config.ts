import react from '@vitejs/plugin-react';
import { defineProject } from 'vitest/config';
import { workspaceAlias } from '../../vitest.shared.ts';

export default defineProject({
  plugins: [react()],
  resolve: { alias: workspaceAlias },
  test: {
    name: '@durable-session/react',
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    // src/*.test-d.ts (type tests) are checked by `npm run typecheck` (the root tsconfig includes them),
    // not by vitest's typecheck mode, which prints an "experimental feature" warning on every run.
  },
});
