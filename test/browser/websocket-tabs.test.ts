// The WebSocket adapter with tab coordination in a real browser: tabs are pages of one Chromium
// context; the server counts the sockets open at each moment.
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
const newSession = (): string => `ws-tabs-${process.pid}-${Date.now()}-${n++}`;
const sockets = (): number => h.server.websocket!.connections;
const openTabs = async (sessionId: string, count: number): Promise<Page[]> => {
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) pages.push(await h.open(sessionId, { live: 'websocket' }));
  await until(async () => (await Promise.all(pages.map(snap))).every((s) => s.status === 'live'), 10_000, 'every tab live');
  return pages;
};
const modes = async (pages: Page[]) => (await Promise.all(pages.map(snap))).map((s) => s.tabs);
const leaderOf = async (pages: Page[]): Promise<Page> => pages[(await modes(pages)).indexOf('leader')]!;
const send = (page: Page, text: string): Promise<string> => page.evaluate((t) => window.session.send(t), text);
const turnOf = async (page: Page, turnId: string) => (await snap(page)).turns.find((t) => t.turnId === turnId);
const appliedText = (page: Page, turnId: string): Promise<string> =>
  page.evaluate((id) => window.applied.filter((e) => e.type === 'delta' && e.turnId === id).map((e) => e.text).join(''), turnId);
const logText = async (sessionId: string, turnId: string): Promise<string> =>
  (await h.log(sessionId))
    .filter((e) => e.turnId === turnId && e.type === 'delta')
    .map((e) => e.text)
    .join('');

describe('WebSocket adapter across tabs in Chromium', () => {
  it('three tabs on one session: one socket for the browser while the agent streams', async () => {
    const id = newSession();
    const pages = await openTabs(id, 3);
    expect((await modes(pages)).sort()).toEqual(['follower', 'follower', 'leader']);
    const turnId = await send(await leaderOf(pages), 'count to 150');
    const samples: number[] = [];
    await until(async () => {
      samples.push(sockets());
      return (await Promise.all(pages.map((p) => turnOf(p, turnId)))).every((t) => t?.status === 'complete');
    }, 20_000, 'turn complete everywhere');
    expect(samples.length).toBeGreaterThan(10);
    expect(Math.max(...samples)).toBe(1);
    expect(Math.min(...samples)).toBe(1);
    const text = await logText(id, turnId);
    expect(text.split(' ')).toHaveLength(150);
    for (const p of pages) {
      expect((await turnOf(p, turnId))?.text).toBe(text);
      expect(await appliedText(p, turnId)).toBe(text);
      expect(await p.evaluate(() => window.problems)).toEqual([]);
    }
    await Promise.all(pages.map((p) => p.close()));
  });

  it('the leader closes mid-answer: another tab takes over on its own socket and every tab ends with the full answer', async () => {
    const id = newSession();
    const pages = await openTabs(id, 3);
    const leader = await leaderOf(pages);
    const rest = pages.filter((p) => p !== leader);
    const turnId = await send(leader, 'count to 250');
    await until(async () => ((await turnOf(rest[1]!, turnId))?.text.length ?? 0) > 200, 10_000, 'some text');
    await leader.close();
    await until(async () => (await modes(rest)).includes('leader'), 2_000, 'a new leader');
    const samples: number[] = [];
    await until(async () => {
      samples.push(sockets());
      return (await Promise.all(rest.map((p) => turnOf(p, turnId)))).every((t) => t?.status === 'complete');
    }, 20_000, 'turn complete in the remaining tabs');
    const text = await logText(id, turnId);
    expect(text.split(' ')).toHaveLength(250);
    for (const p of rest) {
      expect((await turnOf(p, turnId))?.text).toBe(text);
      expect(await appliedText(p, turnId)).toBe(text); // no gap, no repeat across the failover
    }
    expect(samples.at(-1)).toBe(1); // the new leader's socket; the old one is gone
    expect(Math.max(...samples)).toBeLessThanOrEqual(1);
    await Promise.all(rest.map((p) => p.close()));
  });

  it('a follower can stop the answer: its cancel goes out on a socket of its own, and the agent aborts', async () => {
    const id = newSession();
    const pages = await openTabs(id, 2);
    const leader = await leaderOf(pages);
    const follower = pages.find((p) => p !== leader)!;
    const turnId = await send(leader, 'count to 2000');
    await until(async () => ((await turnOf(follower, turnId))?.text.length ?? 0) > 50, 10_000, 'some text');
    await follower.evaluate((t) => window.session.cancel(t), turnId);
    await until(async () => (await Promise.all(pages.map((p) => turnOf(p, turnId)))).every((t) => t?.status === 'cancelled'), 10_000, 'cancelled everywhere');
    expect(h.aborted.has(turnId)).toBe(true);
    // The follower's socket for the append closes once unused: one socket for the browser again.
    await until(() => sockets() === 1, 5_000, 'the follower socket to close');
    await Promise.all(pages.map((p) => p.close()));
  });
});
