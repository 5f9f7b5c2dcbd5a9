import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeBlock, seededRandom, tokenize, topicOf } from '../../playground/server/answer-text';
import { COMPARE_AGENTS, planAnswer, startPlayground, type Playground } from '../../playground/server/index';
import { staticFiles } from '../../playground/server/static-files';
import { parseMarkdownish, visibleText } from '../../playground/src/shared/markdown';
import { until } from './support/until';

// The playground's server and pure helpers, without a browser.
describe('playground agent (over HTTP, no browser)', () => {
  let root: string;
  let playground: Playground;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'playground-static-'));
    await writeFile(join(root, 'index.html'), '<p>react</p>');
    playground = await startPlayground({ port: 0, tokensPerSecond: 2000, staticDir: root });
  });
  afterAll(async () => {
    await playground?.close();
    await rm(root, { recursive: true, force: true });
  });

  const post = async (sessionId: string, event: Record<string, unknown>): Promise<Response> => {
    const init = { headers: { 'content-type': 'application/json' } };
    const created = await fetch(`${playground.url}/v1/stream/${sessionId}`, { ...init, method: 'PUT' }); // idempotent
    expect(created.ok).toBe(true);
    return fetch(`${playground.url}/v1/stream/${sessionId}`, { ...init, method: 'POST', body: JSON.stringify(event) });
  };

  it('creates a session on its first read, and answers a prompt with a Markdown-ish text of about the asked length', async () => {
    expect(await playground.readTurn('unit-1', 't1')).toBeUndefined();
    const read = await fetch(`${playground.url}/v1/stream/unit-1?offset=-1`);
    expect(read.status).toBe(200);
    await read.text();
    expect((await post('unit-1', { type: 'prompt', turnId: 't1', text: 'Write 120 words about offsets', clientId: 'c' })).ok).toBe(true);
    const turn = await until('the answer', async () => {
      const t = await playground.readTurn('unit-1', 't1');
      return t?.status === 'complete' && t;
    });
    const text = turn.agents.assistant ?? '';
    expect(text.startsWith('## Offsets\n\n')).toBe(true);
    expect(tokenize(text).length).toBeGreaterThanOrEqual(120);
    expect(tokenize(text).length).toBeLessThan(200);
  });

  it('runs two agents in one turn for a comparison, each ending its own part', async () => {
    await post('unit-2', { type: 'prompt', turnId: 't1', text: 'compare SSE and long-polling in 40 words', clientId: 'c' });
    const turn = await until('both answers', async () => {
      const t = await playground.readTurn('unit-2', 't1');
      return t?.status === 'complete' && t;
    });
    expect(Object.keys(turn.agents)).toEqual(['assistant', ...COMPARE_AGENTS]);
    expect(turn.agents.assistant).toBe('');
    expect(turn.agents.analyst?.startsWith('## The case for SSE')).toBe(true);
    expect(turn.agents.contrarian?.startsWith('## The case for long-polling')).toBe(true);
  });

  it('stops every agent of a turn on cancel and records their aborted signals', async () => {
    await post('unit-3', { type: 'prompt', turnId: 't1', text: 'compare A and B in 4000 words', clientId: 'c' });
    await until('both agents writing', async () => {
      const t = await playground.readTurn('unit-3', 't1');
      return (t?.agents.analyst?.length ?? 0) > 0 && (t?.agents.contrarian?.length ?? 0) > 0;
    });
    await post('unit-3', { type: 'cancel', turnId: 't1', clientId: 'c' });
    const turn = await until('every agent to end', async () => {
      const t = await playground.readTurn('unit-3', 't1');
      return Object.keys(t?.ended ?? {}).length === 3 && t;
    });
    expect(turn.ended).toEqual({ assistant: 'cancelled', analyst: 'cancelled', contrarian: 'cancelled' });
    const aborted = playground.abortedTurns.filter((t) => t.sessionId === 'unit-3').map((t) => t.agentId);
    expect(aborted.sort()).toEqual(['analyst', 'assistant', 'contrarian']);
  });

  it('changes course on a steer', async () => {
    await post('unit-4', { type: 'prompt', turnId: 't1', text: 'Write 3000 words about caching', clientId: 'c' });
    await until('the answer to start', async () => ((await playground.readTurn('unit-4', 't1'))?.agents.assistant?.length ?? 0) > 0);
    await post('unit-4', { type: 'steer', turnId: 't1', text: 'now focus on   mobile networks', clientId: 'c' });
    const turn = await until('the answer', async () => {
      const t = await playground.readTurn('unit-4', 't1');
      return t?.status === 'complete' && t;
    });
    expect(turn.agents.assistant).toContain('\n\n**Changing course:** now focus on mobile networks\n\n### Mobile networks');
    expect(turn.agents.assistant?.split('Changing course').at(-1)).toContain('mobile networks');
  });

  it('serves the built app and nothing outside it', async () => {
    const page = await fetch(`${playground.url}/`);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toBe('<p>react</p>');
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2F..%2Fetc%2Fpasswd', '/missing.js']) {
      const res = await fetch(`${playground.url}${path}`);
      expect(res.status, path).toBe(404);
      await res.text();
    }
  });
});

describe('static files', () => {
  it('maps /name to name.html, caches hashed assets, refuses other methods', async () => {
    const root = await mkdtemp(join(tmpdir(), 'playground-files-'));
    try {
      await mkdir(join(root, 'assets'));
      await writeFile(join(root, 'vue.html'), 'vue');
      await writeFile(join(root, 'assets', 'app-1234.js'), 'js');
      const files = staticFiles(root);
      const vue = await files(new Request('http://x/vue'));
      expect([vue.status, await vue.text()]).toEqual([200, 'vue']);
      const asset = await files(new Request('http://x/assets/app-1234.js'));
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect((await files(new Request('http://x/vue.html', { method: 'POST', body: 'x' }))).status).toBe(405);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('answer text and plans', () => {
  it('tokenizes losslessly (up to trailing whitespace)', () => {
    const text = composeBlock('resume', 2, seededRandom('x')).text;
    expect(tokenize(`## Title\n\n${text}`).join('')).toBe(`## Title\n\n${text}`);
  });

  it('finds the topic and the plan of a prompt', () => {
    expect(topicOf('Please explain resumable streams in 300 words.')).toBe('resumable streams');
    expect(topicOf('   ')).toBe('durable sessions');
    expect(planAnswer('SSE vs WebSockets').map((p) => [p.agentId, p.topic])).toEqual([
      ['analyst', 'SSE'],
      ['contrarian', 'WebSockets'],
    ]);
    expect(planAnswer('use two agents on caching').map((p) => p.heading)).toEqual(['## The case for caching', '## A second opinion on caching']);
    expect(planAnswer('hello', 'bot')).toMatchObject([{ agentId: 'bot', tokens: 140 }]);
  });
});

describe('Markdown-ish reader', () => {
  it('keeps markup as text and reads headings, lists, bold and code', () => {
    const blocks = parseMarkdownish('## Hi <b>x</b>\n\nSome **bold** and `code` <script>alert(1)</script>\n- one\n- **two**');
    expect(blocks).toEqual([
      { kind: 'h2', spans: [{ kind: 'text', text: 'Hi <b>x</b>' }] },
      {
        kind: 'p',
        spans: [
          { kind: 'text', text: 'Some ' },
          { kind: 'strong', text: 'bold' },
          { kind: 'text', text: ' and ' },
          { kind: 'code', text: 'code' },
          { kind: 'text', text: ' <script>alert(1)</script>' },
        ],
      },
      { kind: 'ul', items: [[{ kind: 'text', text: 'one' }], [{ kind: 'strong', text: 'two' }]] },
    ]);
  });

  it('shows unfinished markers as text while an answer streams', () => {
    expect(parseMarkdownish('A **bol')).toEqual([{ kind: 'p', spans: [{ kind: 'text', text: 'A **bol' }] }]);
    expect(visibleText('## T\n\nA **b** c')).toBe('TAbc');
  });
});
