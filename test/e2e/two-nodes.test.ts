import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisStore } from '@durable-session/redis';
import type { SessionStore } from '@durable-session/server';
import { startPlayground, type Playground } from '../../playground/server/index';
import { deleteKeys, REDIS_URL } from '../support/redis';
import { ChatPage, PAGES, expectedText } from './support/chat-page';
import { launchChromium } from '../support/chromium';
import { newDevice } from './support/chromium';
import { sleep } from './support/fixture';
import { until } from './support/until';

// The three-capability check (DESIGN.md) in Chromium with two playground nodes on one Redis:
// the page on node A, the second device and the stopping tab on node B. Both nodes run the agent.
const prefix = `e2e-two-nodes:${randomUUID()}:`;
const stores: SessionStore[] = [];
let a: Playground;
let b: Playground;
let browser: Browser;
let sessions = 0;

beforeAll(async () => {
  const node = (): Promise<Playground> => {
    const store = redisStore({ url: REDIS_URL, prefix });
    stores.push(store);
    return startPlayground({ port: 0, host: '127.0.0.1', tokensPerSecond: 150, staticDir: inject('playgroundApp'), store });
  };
  [a, b] = await Promise.all([node(), node()]);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all(stores.map((s) => s.close()));
  await deleteKeys(prefix);
});

const page = PAGES[0] as (typeof PAGES)[number];
function newSession(): { sessionId: string; onA: string; onB: string } {
  const sessionId = `e2e-two-${Date.now().toString(36)}-${++sessions}`;
  return { sessionId, onA: `${a.url}${page.path}?session=${sessionId}`, onB: `${b.url}${page.path}?session=${sessionId}` };
}

describe(`two nodes on one Redis (${page.label} page)`, () => {
  it('resume after drop on node A: the full answer shows, no gap, no repeat', async () => {
    const { sessionId, onA } = newSession();
    const context = await newDevice(browser);
    try {
      const chat = await ChatPage.open(context, onA);
      await chat.waitForBadge('live');
      const turnId = await chat.send('Write 450 words about resuming after a drop on a cluster');
      await chat.waitForText(turnId, 80);
      await context.setOffline(true);
      await chat.waitForBadge('offline', 5000);
      const shownAtDrop = (await chat.text(turnId)).length;
      await until('node B to hold more of the answer than the page showed', async () => expectedText((await b.readTurn(sessionId, turnId))?.agents.assistant).length > shownAtDrop + 60, 10_000);
      await sleep(300);
      await context.setOffline(false);
      await chat.waitForStatus(turnId, 'complete', 30_000);
      const stored = await b.readTurn(sessionId, turnId);
      expect(await chat.text(turnId)).toBe(expectedText(stored?.agents.assistant));
      expect(chat.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('second device: a browser context on node B opened mid-answer sees the answer from node A streaming live', async () => {
    const { sessionId, onA, onB } = newSession();
    const first = await newDevice(browser);
    const second = await newDevice(browser);
    try {
      const onNodeA = await ChatPage.open(first, onA);
      const turnId = await onNodeA.send('Write 450 words about watching an answer from another node');
      await onNodeA.waitForText(turnId, 40);
      const onNodeB = await ChatPage.open(second, onB);
      const partials: number[] = [];
      await until(
        'the device on node B to see the answer complete',
        async () => {
          const [status, text] = [await onNodeB.status(turnId), await onNodeB.text(turnId)];
          if (status === 'streaming' && text.length > 0 && partials.at(-1) !== text.length) partials.push(text.length);
          return status === 'complete';
        },
        30_000,
        30,
      );
      expect(partials.length).toBeGreaterThanOrEqual(2);
      await onNodeA.waitForStatus(turnId, 'complete');
      const stored = await a.readTurn(sessionId, turnId);
      expect(await onNodeB.text(turnId)).toBe(expectedText(stored?.agents.assistant));
      expect(await onNodeB.text(turnId)).toBe(await onNodeA.text(turnId));
      expect([...onNodeA.errors, ...onNodeB.errors]).toEqual([]);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('cancel across nodes: Stop in a tab on node B stops the answer started on node A; the agent signal fired', async () => {
    const { sessionId, onA, onB } = newSession();
    const context = await newDevice(browser);
    try {
      const starter = await ChatPage.open(context, onA);
      const stopper = await ChatPage.open(context, onB);
      const turnId = await starter.send('Write 900 words about stopping from another node');
      await stopper.waitForText(turnId, 40);
      await stopper.page.getByTestId('stop').click();
      await Promise.all([starter.waitForStatus(turnId, 'cancelled', 10_000), stopper.waitForStatus(turnId, 'cancelled', 10_000)]);
      // whichever node claimed the turn ran the agent, and its signal fired
      const aborted = await until('the agent signal to fire', () => [...a.abortedTurns, ...b.abortedTurns].filter((t) => t.turnId === turnId), 10_000);
      expect(aborted).toHaveLength(1);
      expect(aborted[0]).toMatchObject({ sessionId, turnId, agentId: 'assistant' });
      const stored = await until('the agent to end the turn', async () => {
        const turn = await a.readTurn(sessionId, turnId);
        return turn?.ended.assistant === 'cancelled' && turn;
      });
      const expected = expectedText(stored.agents.assistant);
      await until('both tabs to show the stored answer', async () => (await starter.text(turnId)) === expected && (await stopper.text(turnId)) === expected, 5000);
      expect([...starter.errors, ...stopper.errors]).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
