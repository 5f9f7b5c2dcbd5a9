/**
 * The attacks of issue 10 against the built CLI (`npm run build` first), with the demo agent.
 * Each asserts the status it now gets, that the server still serves, and that what it
 * acknowledged before is intact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli } from '../support/cli';
import { client, codeOf, rawRequest, type Ev } from './support';

type Cli = Awaited<ReturnType<typeof startCli>>;
let cli: Cli;
let api: ReturnType<typeof client>;
let n = 0;
const fresh = (name: string): string => `${name}-${process.pid}-${++n}`;
const prompt = (turnId: string, text = 'count to 3') => ({ type: 'prompt', turnId, text, clientId: 'alice' });
const ended = (turnId: string) => (list: Ev[]) => list.some((e) => e.type === 'turn.end' && e.turnId === turnId);

async function stop(c: Cli): Promise<void> {
  if (c.process.exitCode !== null) return;
  const exited = new Promise((r) => c.process.once('exit', r));
  c.process.kill('SIGTERM');
  await exited;
}

beforeAll(async () => {
  cli = await startCli(['--port', '0', '--demo-agent', '--demo-delay', '1']);
  api = client(cli.url);
});
afterAll(async () => {
  await stop(cli);
});

describe('hostile clients against the CLI', () => {
  it('null, [null] or [1] is refused 400 invalid-event and the session is not poisoned', async () => {
    const id = fresh('poison');
    await api.put(id);
    expect((await api.post(id, { type: 'note', n: 1 })).status).toBe(204);
    for (const body of ['null', '[null]', '[1]', '[{"type":"note"},null]']) {
      const res = await api.post(id, body);
      expect(res.status, body).toBe(400);
      expect(await codeOf(res)).toBe('invalid-event');
    }
    expect(await api.events(id)).toEqual([{ type: 'note', n: 1 }]);
    await api.healthy();
  });

  it('a client cannot write as the agent, nor use, fence or pre-empt its producer', async () => {
    const id = fresh('forge');
    await api.put(id);
    for (const forged of [
      { type: 'turn.start', turnId: 't1', agentId: 'demo' },
      { type: 'delta', turnId: 't1', agentId: 'demo', text: 'FORGED' },
      { type: 'turn.end', turnId: 't1', agentId: 'demo', reason: 'complete' },
    ]) {
      expect((await api.post(id, forged)).status).toBe(403);
    }
    // The agent's producer: fencing it (a higher epoch) or taking its next seqs is refused.
    for (const [epoch, seq] of [['7', '0'], ['0', '1'], ['0', '2']]) {
      const res = await api.post(id, { type: 'note', text: 'FORGED' }, { 'producer-id': '__turn/t1/demo', 'producer-epoch': epoch as string, 'producer-seq': seq as string });
      expect(res.status).toBe(403);
    }
    // Main's guessable id is now only a client producer like any other: it cannot touch the agent's.
    expect((await api.post(id, { type: 'note', text: 'mine' }, { 'producer-id': 'turn/t1/demo', 'producer-epoch': '7', 'producer-seq': '0' })).status).toBe(200);
    expect((await api.post(id, prompt('t1'))).status).toBe(204);
    const list = await api.until(id, ended('t1'));
    const answer = list.filter((e) => e.type === 'delta' && e.turnId === 't1').map((e) => e.text).join('');
    expect(answer).toBe('the session keeps'); // the demo agent's first three words, nothing else
    expect(list.find((e) => e.type === 'turn.end')).toMatchObject({ agentId: 'demo', reason: 'complete' });
    expect(JSON.stringify(list)).not.toContain('FORGED');
    await api.healthy();
  });

  it('1,000 prompts in one POST are refused 413; 100 start at most 4 turns, the rest end error at once', async () => {
    const id = fresh('flood');
    await api.put(id);
    const prompts = (count: number) => Array.from({ length: count }, (_, i) => prompt(`p${i}`, 'count to 50'));
    const big = await api.post(id, prompts(1000));
    expect([big.status, await codeOf(big)]).toEqual([413, 'too-many-events']);
    expect((await api.post(id, prompts(100))).status).toBe(204);
    const list = await api.until(id, (l) => l.filter((e) => e.type === 'turn.end').length === 100);
    expect(list.filter((e) => e.type === 'turn.start').length).toBeLessThanOrEqual(4);
    expect(list.filter((e) => e.type === 'turn.end' && e.reason === 'error').length).toBeGreaterThanOrEqual(96);
    expect(list.filter((e) => e.type === 'prompt')).toHaveLength(100);
    await api.healthy();
  });

  it('a page of tiny entries is bounded (10,000 per response) and the whole log reads back in order', async () => {
    const id = fresh('tiny');
    await api.put(id);
    for (let b = 0; b < 120; b++) {
      const res = await api.post(id, Array.from({ length: 100 }, (_, i) => ({ type: 'x', i: b * 100 + i })));
      expect(res.status).toBe(204);
    }
    const first = await fetch(api.url(id, '?offset=-1'));
    expect(((await first.json()) as unknown[]).length).toBe(10_000);
    expect(first.headers.get('stream-up-to-date')).toBeNull();
    const all = await api.events(id);
    expect(all.map((e) => e.i)).toEqual(Array.from({ length: 12_000 }, (_, i) => i));
  });

  it('stored HTML is served sandboxed (CSP sandbox, nosniff, attachment), never as a page of this origin', async () => {
    const id = fresh('xss');
    expect((await api.put(id, { 'content-type': 'text/html' }, '<script>alert(document.cookie)</script>')).status).toBe(201);
    const res = await fetch(api.url(id, '?offset=-1'));
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-disposition')).toBe('attachment');
  });

  it('a fork does not make the agent answer its inherited prompts again', async () => {
    const id = fresh('src');
    await api.put(id);
    await api.post(id, prompt('f1'));
    const answered = await api.until(id, ended('f1'));
    const fork = fresh('fork');
    const res = await api.put(fork, { 'content-type': 'application/json', 'stream-forked-from': `/v1/stream/${id}` });
    expect(res.status).toBe(201);
    await new Promise((r) => setTimeout(r, 500));
    expect(await api.events(fork)).toEqual(answered);
    await api.post(fork, prompt('f2'));
    const forked = await api.until(fork, ended('f2'));
    expect(forked.filter((e) => e.type === 'turn.start')).toHaveLength(2); // f1 inherited, f2 answered
  });

  it('a deleted session answers 404 deleted (not re-created by a POST); an unknown one 404 not-found', async () => {
    const id = fresh('del');
    await api.put(id);
    expect((await fetch(api.url(id), { method: 'DELETE' })).status).toBe(204);
    const get = await fetch(api.url(id, '?offset=-1'));
    expect([get.status, await codeOf(get)]).toEqual([404, 'deleted']);
    const post = await api.post(id, { type: 'note' });
    expect([post.status, await codeOf(post)]).toEqual([404, 'deleted']);
    const unknown = await fetch(api.url(fresh('never'), '?offset=-1'));
    expect([unknown.status, await codeOf(unknown)]).toEqual([404, 'not-found']);
    await api.healthy();
  });

  it('an absolute-form request target answers 400 without a logged stack', async () => {
    const host = new URL(cli.url).host;
    const { response } = await rawRequest(cli.url, `GET http://evil.example/v1/stream/x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    expect(response).toMatch(/^HTTP\/1\.1 400/);
    expect(cli.output()).not.toMatch(/\n\s+at /);
    await api.healthy();
  });

  it('more than 50 live readers of one session are refused 429; the others keep reading', async () => {
    const id = fresh('readers');
    await api.put(id);
    const controllers = Array.from({ length: 50 }, () => new AbortController());
    try {
      const live = await Promise.all(controllers.map((c) => fetch(api.url(id, '?offset=-1&live=sse'), { signal: c.signal })));
      expect(live.every((r) => r.status === 200)).toBe(true);
      const extra = await fetch(api.url(id, '?offset=-1&live=long-poll'));
      expect([extra.status, await codeOf(extra)]).toEqual([429, 'too-many-readers']);
    } finally {
      for (const c of controllers) c.abort();
    }
    await api.healthy();
  });

  it('an offset from before a restart answers 410 gone, never a position in the new session', async () => {
    const id = fresh('restart');
    await api.put(id);
    await api.post(id, [prompt('r1', 'count to 2')]);
    const before = await api.until(id, ended('r1'));
    const offset = (await fetch(api.url(id, '?offset=-1'))).headers.get('stream-next-offset') ?? '';
    expect(before.length).toBeGreaterThan(2);
    await stop(cli);
    cli = await startCli(['--port', '0', '--demo-agent', '--demo-delay', '1']);
    api = client(cli.url);
    await api.put(id); // another user's session, re-created at the same id after the restart
    await api.post(id, Array.from({ length: 30 }, (_, i) => ({ type: 'note', text: `other user ${i}` })));
    const stale = await fetch(api.url(id, `?offset=${offset}`));
    expect([stale.status, await codeOf(stale)]).toEqual([410, 'gone']);
    await api.healthy();
  });
});
