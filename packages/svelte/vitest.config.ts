import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { bindingProject } from '../../vitest.shared.ts';

export default bindingProject('@durable-session/svelte', [svelte({ configFile: false }), svelteTesting()], ['src/**/*.test.ts']);
