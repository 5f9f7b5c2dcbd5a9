import { describe, expect, it } from 'vitest';
import { ChatPage, PAGES, expectedText } from './support/chat-page';
import { newDevice } from './support/chromium';
import { e2e, sleep } from './support/fixture';
import { until } from './support/until';

// The three-capability check (DESIGN.md), in Chromium, on each page of the playground (over SSE,
// the default), and on the React page over each other transport of the header's switch.
const env = e2e();
const react = PAGES[0];
const cases = [
  ...PAGES.map((page) => [`${page.label} page`, page, 'sse'] as const),
  [`${react.label} page over long-poll`, react, 'long-poll'] as const,
  [`${react.label} page over WebSocket`, react, 'websocket'] as const,
];

describe.each(cases)('%s', (_label, page, transport) => {
  const id = transport === 'sse' ? page.id : `${page.id}-${transport}`;
  const newSession = () => env.newSession({ id, path: page.path, transport });

  it('resume after drop: the network goes offline mid-answer and comes back; the full answer shows, no gap, no repeat', async () => {
    const { sessionId, url } = newSession();
    const context = await newDevice(env.browser);
    try {
      const chat = await ChatPage.open(context, url);
      await chat.waitForBadge('live');
      // The prompt is echoed into the answer: it must render as text, never as markup.
      const turnId = await chat.send('Write 450 words about <img src=x onerror="window.__pwned=1"> resuming after a drop');
      await chat.waitForText(turnId, 80);

      await context.setOffline(true);
      await chat.waitForBadge('offline', 5000);
      const shownAtDrop = (await chat.text(turnId)).length;
      // The agent keeps writing while this browser is offline: the tokens land in the session.
      await until(
        'the server to hold more of the answer than the page showed',
        async () => expectedText((await env.playground.readTurn(sessionId, turnId))?.agents.assistant).length > shownAtDrop + 60,
        10_000,
      );
      await sleep(300);
      await context.setOffline(false);

      await chat.waitForStatus(turnId, 'complete', 30_000);
      const stored = await env.playground.readTurn(sessionId, turnId);
      expect(stored?.status).toBe('complete');
      expect(await chat.text(turnId)).toBe(expectedText(stored?.agents.assistant));
      await chat.page.locator('[data-testid="resume-notice"][data-kind="resumed"]').waitFor({ timeout: 5000 });
      expect(await chat.badge()).toBe('live');
      expect(await chat.page.locator('[data-testid="transcript"] img').count()).toBe(0);
      expect(await chat.page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
      await chat.screenshot(`${id}-1-resume-after-drop`);
      // The switch really changes the transport: only the WebSocket page opens sockets.
      if (transport === 'websocket') expect(chat.sockets[0]).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1\/socket$/);
      else expect(chat.sockets).toEqual([]);
      expect(chat.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('second device: a separate browser context opened mid-answer through the share link sees it streaming live', async () => {
    const { sessionId, url } = newSession();
    const first = await newDevice(env.browser);
    const second = await newDevice(env.browser);
    try {
      const a = await ChatPage.open(first, url);
      const turnId = await a.send('Write 450 words about watching an answer from a second device');
      await a.waitForText(turnId, 40);
      const link = await a.shareLink();
      expect(link).toBe(url);

      const b = await ChatPage.open(second, link);
      const partials: number[] = [];
      await until(
        'the second device to see the answer complete',
        async () => {
          const [status, text] = [await b.status(turnId), await b.text(turnId)];
          if (status === 'streaming' && text.length > 0 && partials.at(-1) !== text.length) partials.push(text.length);
          return status === 'complete';
        },
        30_000,
        30,
      );
      // It saw the answer grow while it was being written, not just the end result.
      expect(partials.length).toBeGreaterThanOrEqual(2);
      await a.waitForStatus(turnId, 'complete');
      const stored = await env.playground.readTurn(sessionId, turnId);
      const final = await b.text(turnId);
      expect(final).toBe(expectedText(stored?.agents.assistant));
      expect(final).toBe(await a.text(turnId));
      expect(partials[0]).toBeLessThan(final.length);
      await b.screenshot(`${id}-2-second-device`);
      expect([...a.errors, ...b.errors]).toEqual([]);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it('cross-tab cancel: Stop in one tab stops the answer started in another; both show it cancelled and the agent signal fired', async () => {
    const { sessionId, url } = newSession();
    const context = await newDevice(env.browser);
    try {
      const starter = await ChatPage.open(context, url);
      const stopper = await ChatPage.open(context, url);
      const turnId = await starter.send('Write 900 words about stopping from another tab');
      await stopper.waitForText(turnId, 40);
      await stopper.page.getByTestId('stop').click();

      await Promise.all([starter.waitForStatus(turnId, 'cancelled', 10_000), stopper.waitForStatus(turnId, 'cancelled', 10_000)]);
      const aborted = await until('the agent signal to fire', () => env.playground.abortedTurns.find((t) => t.turnId === turnId), 10_000);
      expect(aborted).toMatchObject({ sessionId, turnId, agentId: 'assistant' });
      const stored = await until('the agent to end the turn', async () => {
        const turn = await env.playground.readTurn(sessionId, turnId);
        return turn?.ended.assistant === 'cancelled' && turn;
      });
      expect(stored.status).toBe('cancelled');
      // The answer stopped well short of 900 words, and both tabs show what was written.
      expect(stored.agents.assistant?.split(/\s+/).length).toBeLessThan(800);
      const expected = expectedText(stored.agents.assistant);
      await until('both tabs to show the stored answer', async () => (await starter.text(turnId)) === expected && (await stopper.text(turnId)) === expected, 5000);
      await expect(starter.page.getByTestId('stop').count()).resolves.toBe(0);
      await starter.screenshot(`${id}-3-cross-tab-cancel-starter`);
      await stopper.screenshot(`${id}-3-cross-tab-cancel-stopper`);
      expect([...starter.errors, ...stopper.errors]).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
