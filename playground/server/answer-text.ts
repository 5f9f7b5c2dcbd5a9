/**
 * The playground agent's words: Markdown-ish blocks (headings, paragraphs, bullet lists,
 * **bold** and `code`) about a topic, chosen by a seeded random generator so that one
 * prompt always gets the same answer shape.
 */

/** A deterministic random generator (mulberry32) seeded from a string. */
export function seededRandom(seed: string): () => number {
  let h = 1779033703 ^ seed.length;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 3432918353);
  let a = (h = (h << 13) | (h >>> 19));
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SENTENCES = [
  'The short version on {t}: the answer lives in the session, not in the connection.',
  'Every token about {t} is appended to an ordered log before any screen shows it.',
  'A client that loses its connection asks for everything after its last offset, so nothing is lost and nothing repeats.',
  'A second tab or device reads the same log, so it watches the answer on {t} being written live.',
  'Pressing **Stop** writes a `cancel` event, and the agent’s `AbortSignal` fires wherever the agent runs.',
  'A closed socket says nothing: a train entering a tunnel is not a request to stop.',
  'The snapshot and its offset are saved to IndexedDB together, so a reload renders at once.',
  'Steering is just another event: the agent reads it and changes course mid-answer.',
  'Offsets are opaque strings that sort in log order, which makes exactly-once delivery simple.',
  'With {t}, the hard part is never the happy path; it is the second tab, the flaky train and the impatient user.',
  'Several agents can write into one turn, each tagged with its own id, with no orchestrator relaying their words.',
  'Only the leader tab holds a connection; the other tabs follow over `BroadcastChannel`.',
  'When the network comes back, the client reconnects with jittered backoff and reads only what it missed.',
  'Nothing about {t} has to be generated twice: the agent writes once, and every reader catches up.',
  'A reload paints the saved answer first and then asks the server only for what came after it.',
  'The server turns a `cancel` into an aborted signal for exactly the turn it names.',
  'Nobody has to keep a tab open for {t}: the agent finishes its turn and the log keeps it.',
  'Because each event carries its turn id, a late tab can rebuild every answer from the log alone.',
  'Think of {t} as a conversation written into a shared notebook rather than shouted down a phone line.',
  'A retried append carries the same producer id and sequence number, so it lands exactly once.',
  'When two agents answer side by side, each column is simply the events of one agent id.',
  'The first token of an answer is cheap to show; the last one is the one a flaky network loses.',
  'Closing the laptop lid is not a decision about {t}; pressing stop is.',
  'A session is just an append-only list of JSON events with an offset for each one.',
];

const ITEMS = [
  '**Delivery**: resume from the last offset after a drop.',
  '**Continuity**: every tab and device sees the same answer.',
  '**Control**: `cancel` and `steer` are explicit events, never a closed socket.',
  '**{T}**: written once into the log, read by everyone.',
  '**Persistence**: offset and snapshot go to IndexedDB in one transaction.',
  '**Backoff**: full jitter, capped, reset after a healthy read.',
  '**Agents**: each one writes its own part of the turn.',
];

const SUBHEADINGS = ['### Why {t} needs a log', '### What happens on a drop', '### Who may press stop', '### A closer look at {t}'];

const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
const fill = (template: string, topic: string): string => template.replaceAll('{t}', topic).replaceAll('{T}', capitalize(topic));
const pick = <T>(list: readonly T[], random: () => number): T => list[Math.floor(random() * list.length)] as T;
/** `count` different entries of `list`, in random order. */
const sample = <T>(list: readonly T[], count: number, random: () => number): T[] => {
  const rest = [...list];
  return Array.from({ length: Math.min(count, rest.length) }, () => rest.splice(Math.floor(random() * rest.length), 1)[0] as T);
};

/**
 * What a prompt (or a steer) is about: the text without instructions such as
 * "explain", "tell me about" or "in 300 words", at most 60 characters.
 * @example
 * topicOf('Explain resumable streams in 300 words'); // 'resumable streams'
 */
export function topicOf(text: string): string {
  const topic = text
    .replace(/\b(?:in|with)?\s*\d+\s*(?:words?|tokens?)\b/gi, ' ')
    .replace(/\s+/g, ' ')
    .replace(/^\s*(?:(?:please|now|then|explain|describe|tell me about|write about|write|what is|what are|how does|how do|talk about|focus on|about|on)\s+)+/i, '')
    .replace(/[\s?.!:;,]+$/g, '')
    .trim()
    .slice(0, 60);
  return topic || 'durable sessions';
}

/** The kinds of block an answer is made of. */
export type BlockKind = 'paragraph' | 'list' | 'section';
const KINDS: readonly BlockKind[] = ['paragraph', 'paragraph', 'list', 'section'];
const KINDS_AFTER_LIST: readonly BlockKind[] = ['paragraph', 'section'];

/**
 * One block of an answer (no leading or trailing blank line): a paragraph of two or three
 * sentences, a bullet list of three items (never right after another list), or a
 * sub-heading followed by a paragraph.
 * @example
 * composeBlock('resume', 1, seededRandom('t1')); // { kind: 'paragraph', text: 'Every token about resume is …' }
 */
export function composeBlock(topic: string, index: number, random: () => number, previous?: BlockKind): { kind: BlockKind; text: string } {
  const kind: BlockKind = index === 0 ? 'paragraph' : pick(previous === 'list' ? KINDS_AFTER_LIST : KINDS, random);
  const paragraph = (): string =>
    sample(SENTENCES, 2 + Math.floor(random() * 2), random)
      .map((sentence) => fill(sentence, topic))
      .join(' ');
  if (kind === 'list') return { kind, text: sample(ITEMS, 3, random).map((item) => `- ${fill(item, topic)}`).join('\n') };
  if (kind === 'section') return { kind, text: `${fill(pick(SUBHEADINGS, random), topic)}\n\n${paragraph()}` };
  return { kind, text: paragraph() };
}

/**
 * Split text into tokens as a model would stream them: each word with the whitespace
 * (spaces, newlines) in front of it. Joining the tokens gives the text back, minus
 * trailing whitespace.
 * @example
 * tokenize('Hello big\n\nworld'); // ['Hello', ' big', '\n\nworld']
 */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}
