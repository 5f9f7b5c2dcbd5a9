// Tab coordination in a real browser: tabs are pages of one Chromium context (shared
// BroadcastChannel, Web Locks, IndexedDB); the server counts the live reads that reach it.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snap, startHarness, until, type Harness } from './support/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

let n = 0;
const newSession = (): string => `tabs-${process.pid}-${Date.now()}-${n++}`;
const openTabs = async (sessionId: string, count: number, query?: Record<string, string>): Promise<Page[]> => {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) pages.push(await h.open(sessionId, query));
  await until(async () => (await Promise.all(pages.map(snap))).every((s) => s.status === 'live'), 10_000, 'every tab live');
  return pages;
};
const modes = async (pages: Page[]) => (await Promise.all(pages.map(snap))).map((s) => s.tabs);
const leaderOf = async (pages: Page[]): Promise<Page> => pages[(await modes(pages)).indexOf('leader')]!;
const send = (page: Page, text: string): Promise<string> => page.evaluate((t) => window.session.send(t), text);
const turnOf = async (page: Page, turnId: string) => (await snap(page)).turns.find((t) => t.turnId === turnId);
/** The text the agent wrote into a turn, from the server's log, and how the turn ended there. */
const written = async (sessionId: string, turnId: string) => {
  const log = (await h.log(sessionId)).filter((e) => e.turnId === turnId);
  return { text: log.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join(''), end: log.find((e) => e.type === 'turn.end')?.reason };
};
/** The deltas a tab applied through `on('event')` for a turn, joined: equal to the log's text means no gap and no repeat. */
const appliedText = (page: Page, turnId: string): Promise<string> =>
  page.evaluate((id) => window.applied.filter((e) => e.type === 'delta' && e.turnId === id).map((e) => e.text).join(''), turnId);
const ended = (pages: Page[], turnId: string, status = 'complete', ms = 20_000) =>
  until(async () => (await Promise.all(pages.map((p) => turnOf(p, turnId)))).every((t) => t?.status === status), ms, `turn ${status} in every tab`);
const problems = (page: Page): Promise<string[]> => page.evaluate(() => window.problems);
const closeAll = (pages: Page[]) => Promise.all(pages.map((p) => (p.isClosed() ? undefined : p.close())));

describe('tabs in Chromium', () => {
  it('three tabs on one session: exactly one live read reaches the server while the agent streams', async () => {
    const id = newSession();
    const pages = await openTabs(id, 3);
    expect((await modes(pages)).sort()).toEqual(['follower', 'follower', 'leader']);
    const turnId = await send(pages[2]!, 'count to 150');
    const samples: number[] = [];
    await until(async () => {
      samples.push(h.reads.get(id)!.inFlight);
      return (await Promise.all(pages.map((p) => turnOf(p, turnId)))).every((t) => t?.status === 'complete');
    }, 20_000, 'turn complete everywhere');
    expect(samples.length).toBeGreaterThan(10); // sampled during the ~1.5 s answer
    expect(Math.max(...samples)).toBe(1);
    expect(Math.min(...samples)).toBe(1);
    expect(h.reads.get(id)!.total).toBe(1);
    const { text } = await written(id, turnId);
    expect(text.split(' ')).toHaveLength(150);
    for (const p of pages) {
      expect((await turnOf(p, turnId))?.text).toBe(text);
      expect(await appliedText(p, turnId)).toBe(text);
      expect(await problems(p)).toEqual([]);
    }
    await closeAll(pages);
  });

  it.each(['closes', 'crashes'] as const)('the leader %s mid-answer: another tab takes over within a second, the others end with the full answer', async (how) => {
    const id = newSession();
    const pages = await openTabs(id, 3);
    const leader = await leaderOf(pages);
    const rest = pages.filter((p) => p !== leader);
    const turnId = await send(rest[0]!, 'count to 250');
    await until(async () => ((await turnOf(rest[1]!, turnId))?.text.length ?? 0) > 200, 10_000, 'some text');
    const closedAt = Date.now();
    if (how === 'closes') await leader.close();
    // Page.crash kills the renderer: no pagehide, no unlock by the page; the browser frees the lock.
    else void (await h.context.newCDPSession(leader)).send('Page.crash').catch(() => {});
    await until(async () => (await modes(rest)).includes('leader'), 2_000, 'a new leader');
    const tookOver = Date.now() - closedAt;
    await ended(rest, turnId);
    expect(tookOver).toBeLessThan(1000);
    expect((await modes(rest)).sort()).toEqual(['follower', 'leader']);
    const { text, end } = await written(id, turnId);
    expect(end).toBe('complete');
    for (const p of rest) {
      expect((await turnOf(p, turnId))?.text).toBe(text);
      expect(await appliedText(p, turnId)).toBe(text); // each delta applied once, in order, none missing
      expect(await problems(p)).toEqual([]);
    }
    expect(h.reads.get(id)).toEqual({ inFlight: 1, total: 2 });
    await closeAll(pages);
  });

  it('stop pressed in a follower aborts the agent started from the leader; every tab shows cancelled', async () => {
    const id = newSession();
    const pages = await openTabs(id, 3);
    const leader = await leaderOf(pages);
    const follower = pages.find((p) => p !== leader)!;
    const turnId = await send(leader, 'count to 2000');
    await until(async () => ((await turnOf(follower, turnId))?.text.length ?? 0) > 50, 10_000, 'some text');
    await follower.evaluate(() => window.session.cancel());
    await ended(pages, turnId, 'cancelled', 10_000);
    await until(async () => (await written(id, turnId)).end !== undefined, 5_000, 'turn.end in the log');
    expect(h.aborted.has(turnId)).toBe(true);
    const { text, end } = await written(id, turnId);
    expect(end).toBe('cancelled');
    expect(text.split(' ').length).toBeLessThan(2000);
    const log = await h.log(id);
    expect(log.filter((e) => e.type === 'cancel')).toHaveLength(1);
    await until(async () => (await Promise.all(pages.map((p) => turnOf(p, turnId)))).every((t) => t?.text === text), 5_000, 'same text everywhere');
    await closeAll(pages);
  });

  it('a tab opened mid-answer shows everything so far, then streams live, with no live read of its own', async () => {
    const id = newSession();
    const [first] = await openTabs(id, 1);
    const turnId = await send(first!, 'count to 300');
    await until(async () => ((await turnOf(first!, turnId))?.text.length ?? 0) > 300, 10_000, 'some text');
    const late = await h.open(id);
    await until(async () => (await snap(late)).status === 'live', 5_000, 'late tab live');
    const caughtUp = (await turnOf(late, turnId))!;
    expect(caughtUp.status).toBe('streaming');
    const restored = await late.evaluate(() => window.restored);
    expect(restored?.texts[turnId]?.length).toBeGreaterThan(0); // rendered from IndexedDB first (the leader's save)
    const appliedAtCatchUp = (await appliedText(late, turnId)).length;
    await ended([first!, late], turnId);
    const { text } = await written(id, turnId);
    expect((await turnOf(late, turnId))?.text).toBe(text);
    expect((await snap(late)).tabs).toBe('follower');
    // IndexedDB gave a prefix; the events applied since (the leader's ring, then live) are exactly the rest.
    expect(restored!.texts[turnId]! + (await appliedText(late, turnId))).toBe(text);
    expect((await appliedText(late, turnId)).length).toBeGreaterThan(appliedAtCatchUp); // it kept streaming live
    expect(h.reads.get(id)).toEqual({ inFlight: 1, total: 1 });
    expect(await problems(late)).toEqual([]);
    await closeAll([first!, late]);
  });

  it('tabs: false: each tab reads on its own (solo)', async () => {
    const id = newSession();
    const pages = await openTabs(id, 3, { tabs: 'false' });
    expect(await modes(pages)).toEqual(['solo', 'solo', 'solo']);
    const turnId = await send(pages[0]!, 'count to 100');
    await until(async () => ((await turnOf(pages[0]!, turnId))?.text.length ?? 0) > 0, 10_000, 'some text');
    expect(h.reads.get(id)!.inFlight).toBe(3);
    await ended(pages, turnId);
    const { text } = await written(id, turnId);
    for (const p of pages) expect((await turnOf(p, turnId))?.text).toBe(text);
    await closeAll(pages);
  });
});
