import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import react from '@vitejs/plugin-react';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const page = (name: string): string => fileURLToPath(new URL(`./${name}.html`, import.meta.url));

/**
 * The playground app: three pages (React at `/`, Vue at `/vue.html`, Svelte at `/svelte.html`)
 * built into `dist/app`, served with the session API by `server/` (`npm start`).
 * `npm run dev -w playground` serves the pages with hot reload and proxies `/v1` to a
 * playground server on port 5173 (`npm run serve -w playground`).
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react(), vue(), svelte({ configFile: false })],
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    rolldownOptions: {
      input: { index: page('index'), vue: page('vue'), svelte: page('svelte') },
      checks: { bundlerTimings: false }, // a note on plugin timings at every build: noise here
    },
  },
  server: { port: 5174, proxy: { '/v1': { target: 'http://127.0.0.1:5173', ws: true } } },
});
