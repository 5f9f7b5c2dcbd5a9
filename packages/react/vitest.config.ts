import react from '@vitejs/plugin-react';
import { bindingProject } from '../../vitest.shared.ts';

export default bindingProject('@durable-session/react', [react()], ['src/**/*.test.{ts,tsx}']);
