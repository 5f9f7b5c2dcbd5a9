/**
 * The README's Vue and Svelte examples compile, without a warning, under the Vue and Svelte
 * versions installed here (as readme.test.ts runs its TypeScript examples).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'svelte/compiler';
import { compileScript, compileTemplate, parse } from 'vue/compiler-sfc';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';

const readme = readFileSync(join(fileURLToPath(new URL('..', import.meta.url)), 'README.md'), 'utf8');

/** The one fenced block of `lang` in the README. */
function block(lang: string): string {
  const blocks = [...readme.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((m) => m[1]!);
  expect(blocks, `README.md ${lang} blocks`).toHaveLength(1);
  return blocks[0]!;
}

// Both compilers may also report through console.warn: count that as a warning too.
let consoleWarnings: unknown[][] = [];
beforeEach(() => {
  consoleWarnings = [];
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void consoleWarnings.push(args));
});
afterEach(() => {
  vi.restoreAllMocks();
});

it('compiles the Svelte 5 example with no warnings', () => {
  const source = block('svelte');
  for (const generate of ['client', 'server'] as const) {
    const { warnings } = compile(source, { filename: 'Chat.svelte', generate });
    expect(warnings.map((w) => `${w.code}: ${w.message}`), generate).toEqual([]);
  }
  expect(consoleWarnings).toEqual([]);
});

it('compiles the Vue example (script setup and template) with no errors or warnings', () => {
  const { descriptor, errors } = parse(block('vue'), { filename: 'Chat.vue' });
  expect(errors).toEqual([]);
  const script = compileScript(descriptor, { id: 'chat', inlineTemplate: true });
  expect(script.warnings ?? []).toEqual([]);
  const template = compileTemplate({ source: descriptor.template!.content, filename: 'Chat.vue', id: 'chat', compilerOptions: { bindingMetadata: script.bindings } });
  expect(template.errors).toEqual([]);
  expect(template.tips).toEqual([]);
  expect(consoleWarnings).toEqual([]);
});
