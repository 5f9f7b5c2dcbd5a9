import { sleep } from './abort';
import type { SteerEvent } from '@durable-session/core';
import type { PromptHandler } from './host';

/**
 * Options of {@link demoAgent}.
 * @example
 * demoAgent({ delayMs: 10, defaultWords: 20 });
 */
export interface DemoAgentOptions {
  /** Pause after each word, in ms. Default 30. */
  delayMs?: number;
  /** Words in an answer when the prompt holds no number. Default 60. */
  defaultWords?: number;
  /** Upper bound for a number found in the prompt. Default 5000. */
  maxWords?: number;
}

const VOCABULARY = (
  'the session keeps every token in order so a dropped connection loses nothing and a second tab ' +
  'sees the same answer while it is written stop is an explicit event never a closed socket'
).split(' ');

const CONNECTIVES = ['and', 'then', 'so', 'more', 'with', 'also'];

/**
 * A small built-in agent for demos and tests. It answers each prompt by streaming words
 * (one `delta` per word, `delayMs` apart): as many words as the first number in the
 * prompt ("count to 200" → 200 words), else `defaultWords`. It stops as soon as the turn
 * is cancelled, and on a steer it writes `[steered: <text>]` and continues with words
 * taken from the steer text (acknowledging the steer `applied`; one overtaken by a newer
 * steer before it was used is `rejected`, `superseded`). A prompt naming a "tool" (for
 * example "use the email tool") first asks the people watching: "Run the tool?" with
 * `approve` / `deny` (`turn.ask`), writes `[tool approved]` or `[tool denied]`, then answers.
 * @example
 * const { host } = createSessionServer();
 * host.onPrompt(demoAgent({ delayMs: 30 }));
 */
export function demoAgent(options: DemoAgentOptions = {}): PromptHandler {
  const delayMs = options.delayMs ?? 30;
  const defaultWords = options.defaultWords ?? 60;
  const maxWords = options.maxWords ?? 5000;
  return async ({ prompt, turn }) => {
    const total = wordCount(prompt.text, defaultWords, maxWords);
    let pendingSteer: SteerEvent | undefined;
    let theme: string[] | undefined;
    let sinceSteer = 0;
    void (async () => {
      for await (const steer of turn.steers) {
        if (pendingSteer?.steerId !== undefined) void turn.acknowledgeSteer(pendingSteer.steerId, 'rejected', 'superseded').catch(() => {});
        pendingSteer = steer;
      }
    })();
    if (/\btools?\b/i.test(prompt.text)) {
      const choice = await turn.ask({ question: `Run the tool for "${prompt.text.slice(0, 80)}"?`, options: ['approve', 'deny'] });
      await turn.write(`[tool ${choice === 'approve' ? 'approved' : 'denied'}] `);
    }
    for (let i = 0; i < total; i++) {
      if (turn.signal.aborted) return;
      const separator = i === 0 ? '' : ' ';
      if (pendingSteer !== undefined) {
        const steer = pendingSteer;
        pendingSteer = undefined;
        await turn.write(`${separator}[steered: ${steer.text}]`);
        if (steer.steerId !== undefined) await turn.acknowledgeSteer(steer.steerId, 'applied');
        theme = themeWords(steer.text);
        sinceSteer = 0;
      }
      const word = theme === undefined ? (VOCABULARY[i % VOCABULARY.length] as string) : themed(theme, sinceSteer++);
      await turn.write(`${i === 0 && theme === undefined ? '' : ' '}${word}`);
      await sleep(delayMs, turn.signal);
    }
  };
}

/** The first number in the text (clamped to 1..max), else `fallback`. */
export function wordCount(text: string, fallback: number, max: number): number {
  const match = /\d+/.exec(text);
  if (match === null) return fallback;
  return Math.min(max, Math.max(1, Number(match[0])));
}

function themeWords(text: string): string[] {
  const words = text
    .split(/\s+/)
    .map((w) => w.replace(/[^\p{L}\p{N}'-]/gu, ''))
    .filter((w) => w.length > 0);
  return words.length > 0 ? words : ['that'];
}

/** The `k`-th word after a steer: its words alternating with connectives ("talk and about then cats so …"). */
function themed(theme: readonly string[], k: number): string {
  return k % 2 === 0 ? (theme[(k / 2) % theme.length] as string) : (CONNECTIVES[((k - 1) / 2) % CONNECTIVES.length] as string);
}
