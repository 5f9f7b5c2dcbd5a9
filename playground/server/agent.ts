import type { PromptHandler, TurnWriter } from '@durable-session/server';
import { composeBlock, seededRandom, tokenize, topicOf, type BlockKind } from './answer-text';

/**
 * A turn writer whose `AbortSignal` fired (someone wrote a `cancel`, or the host shut down).
 * @example
 * const aborted: AbortedTurn = { sessionId: 's1', turnId: 't1', agentId: 'assistant', reason: 'cancelled', at: Date.now() };
 */
export interface AbortedTurn {
  sessionId: string;
  turnId: string;
  agentId: string;
  /** The abort reason's message. */
  reason: string;
  /** `Date.now()` when the signal fired. */
  at: number;
}

/**
 * Options of {@link playgroundAgent}.
 * @example
 * playgroundAgent({ tokensPerSecond: 30, onAbort: (t) => console.log('stopped', t.turnId) });
 */
export interface PlaygroundAgentOptions {
  /** Average pace of the answer. Default 30 tokens a second. */
  tokensPerSecond?: number;
  /** Called once per writer whose signal fired. */
  onAbort?: (turn: AbortedTurn) => void;
  /** Failures of a background task (a steer listener). Default `console.error`. */
  onError?: (error: unknown) => void;
}

/** What one writer of a turn is asked to write. */
interface WriterPlan {
  agentId: string;
  heading: string;
  topic: string;
  /** About how many tokens to write (the last block is finished, so a few more). */
  tokens: number;
}

/** The agent ids of the two agents of a "compare" prompt. */
export const COMPARE_AGENTS = ['analyst', 'contrarian'] as const;

const DEFAULT_TOKENS = 140;
const DEFAULT_COMPARE_TOKENS = 90;

/**
 * How a prompt is answered: one writer, or two writers in parallel for prompts that
 * compare two things ("compare A and B", "A vs B") or ask for "two agents".
 * A number followed by "words" or "tokens" sets the length.
 * @example
 * planAnswer('compare SSE and long-poll').map((w) => w.agentId); // ['analyst', 'contrarian']
 */
export function planAnswer(text: string, agentId = 'assistant'): WriterPlan[] {
  const length = /(\d+)\s*(?:words?|tokens?)\b/i.exec(text);
  const requested = length ? Math.min(4000, Math.max(10, Number(length[1]))) : undefined;
  const pair =
    /\bcompare\s+(.+?)\s+(?:and|with|to|vs\.?|versus)\s+(.+)/i.exec(text) ?? /^(.+?)\s+(?:vs\.?|versus)\s+(.+)$/i.exec(text.trim());
  if (!pair && !/\btwo agents\b/i.test(text)) {
    const topic = topicOf(text);
    return [{ agentId, heading: `## ${capitalize(topic)}`, topic, tokens: requested ?? DEFAULT_TOKENS }];
  }
  const [a, b] = pair ? [topicOf(pair[1] ?? ''), topicOf(pair[2] ?? '')] : [topicOf(text.replace(/\b(?:use\s+)?two agents\b/i, '')), ''];
  const tokens = requested ?? DEFAULT_COMPARE_TOKENS;
  return [
    { agentId: COMPARE_AGENTS[0], heading: `## The case for ${a}`, topic: a, tokens },
    { agentId: COMPARE_AGENTS[1], heading: b ? `## The case for ${b}` : `## A second opinion on ${a}`, topic: b || a, tokens },
  ];
}

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** Prompts that make the agent use its "send email" tool, which it asks approval for first. */
export const TOOL_PROMPT = /\b(e-?mail|tool)\b/i;

/** Ask the people watching before the (pretend) tool runs, and say what they chose. */
async function approveTool(turn: TurnWriter): Promise<void> {
  const choice = await turn.ask({ question: 'Send the draft email to the team?', options: ['Send it', "Don't send"] });
  await turn.write(choice === 'Send it' ? '**Tool:** email sent (approved).\n\n' : '**Tool:** email not sent (declined).\n\n');
}

/** Wait `ms`, or less if `signal` aborts (never rejects). */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The playground's agent: streams a Markdown-ish answer token by token at about
 * `tokensPerSecond` (with some jitter), changes course when steered (it writes
 * "**Changing course:** …" and continues on the steer's topic), and stops writing as soon
 * as the turn's `AbortSignal` fires. Prompts comparing two things are answered by two
 * agents writing into the same turn in parallel (see {@link planAnswer}); each one is its
 * own turn writer (`startTurn({ turnId, agentId })`), so nothing relays their output.
 * Register it with `host.onPrompt(playgroundAgent(), { agentId: 'assistant' })`.
 * @param options Pace and observers.
 * @returns A prompt handler for `host.onPrompt`.
 * @example
 * const server = createSessionServer();
 * server.host.onPrompt(playgroundAgent({ tokensPerSecond: 30 }), { agentId: 'assistant' });
 */
export function playgroundAgent(options: PlaygroundAgentOptions = {}): PromptHandler {
  const tokensPerSecond = options.tokensPerSecond ?? 30;
  if (!(tokensPerSecond > 0)) throw new RangeError(`tokensPerSecond must be positive, got ${tokensPerSecond}`);
  const onError = options.onError ?? ((error: unknown) => console.error('[playground agent]', error));
  const tokenMs = (): number => (1000 / tokensPerSecond) * (0.5 + Math.random());
  const thinkMs = Math.min(600, 8000 / tokensPerSecond);

  const watch = (turn: TurnWriter): void => {
    const record = (): void => {
      const reason: unknown = turn.signal.reason;
      options.onAbort?.({
        sessionId: turn.sessionId,
        turnId: turn.turnId,
        agentId: turn.agentId,
        reason: reason instanceof Error ? reason.message : String(reason),
        at: Date.now(),
      });
    };
    if (turn.signal.aborted) record();
    else turn.signal.addEventListener('abort', record, { once: true });
  };

  /** Write one answer into `turn`, until its plan is done or the turn is cancelled. Does not end the turn. */
  const write = async (turn: TurnWriter, plan: WriterPlan): Promise<void> => {
    const random = seededRandom(`${turn.turnId}/${turn.agentId}`);
    let steer: string | undefined;
    let steerId: string | undefined;
    void (async () => {
      for await (const event of turn.steers) {
        // A newer steer overtakes one not used yet.
        if (steerId !== undefined) await turn.acknowledgeSteer(steerId, 'rejected', 'superseded by a newer steer').catch(() => {});
        steer = event.text.replace(/\s+/g, ' ').trim();
        steerId = event.steerId;
      }
    })().catch(onError);
    let written = 0;
    /** Stream `text` token by token; stops early (false) on cancel or steer. */
    const say = async (text: string): Promise<boolean> => {
      for (const token of tokenize(text)) {
        if (turn.signal.aborted || steer !== undefined) return false;
        await turn.write(token);
        written++;
        await pause(tokenMs(), turn.signal);
      }
      return true;
    };
    await pause(thinkMs, turn.signal);
    let topic = plan.topic;
    let block = 0;
    let previous: BlockKind | undefined;
    await say(plan.heading);
    while (!turn.signal.aborted && written < plan.tokens) {
      if (steer !== undefined) {
        const text = steer;
        const applied = steerId;
        steer = undefined;
        steerId = undefined;
        if (applied !== undefined) await turn.acknowledgeSteer(applied, 'applied');
        topic = topicOf(text);
        block = 1;
        await say(`\n\n**Changing course:** ${text}\n\n### ${capitalize(topic)}`);
        previous = 'section';
      } else {
        const next = composeBlock(topic, block++, random, previous);
        previous = next.kind;
        await say(`\n\n${next.text}`);
      }
    }
  };

  /** A second agent of the turn: its writer is ours to end. */
  const runOwn = async (turn: TurnWriter, plan: WriterPlan): Promise<void> => {
    try {
      await write(turn, plan);
      await turn.end(turn.signal.aborted ? 'cancelled' : 'complete');
    } catch (error) {
      if (turn.signal.aborted) {
        await turn.end('cancelled'); // a write raced the cancel: expected
        return;
      }
      await turn.end('error', error instanceof Error ? error.message : String(error));
      throw error;
    }
  };

  return async ({ session, prompt, turn }) => {
    watch(turn);
    if (TOOL_PROMPT.test(prompt.text)) await approveTool(turn);
    const plans = planAnswer(prompt.text, turn.agentId);
    if (plans.length === 1) return write(turn, plans[0] as WriterPlan);
    // Two agents write into this turn side by side; this writer (the coordinator) writes nothing.
    const started = await Promise.allSettled(plans.map((plan) => session.startTurn({ turnId: prompt.turnId, agentId: plan.agentId })));
    const writers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failure) {
      await Promise.all(writers.map((w) => w.end('error', 'the other agent of this turn failed to start')));
      throw failure.reason;
    }
    writers.forEach(watch);
    const results = await Promise.allSettled(writers.map((w, i) => runOwn(w, plans[i] as WriterPlan)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
}
