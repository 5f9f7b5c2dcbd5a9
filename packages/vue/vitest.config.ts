import vue from '@vitejs/plugin-vue';
import { bindingProject } from '../../vitest.shared.ts';

export default bindingProject('@durable-session/vue', [vue()], ['src/**/*.test.ts']);
