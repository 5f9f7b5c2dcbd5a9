import { describe, expect, it } from 'vitest';
import { createDurableSession, httpAdapter, waitFor, type SessionEvent } from '@durable-session/core';
import { ChatPage, PAGES, expectedText } from './support/chat-page';
import { newDevice } from './support/chromium';
import { e2e } from './support/fixture';
import { until } from './support/until';

// A second device opening a long session: the playground starts from the server's snapshot (the
// last 10 turns), renders the latest answer, and loads older turns as the reader scrolls up.
const env = e2e();
const TURNS = 24;

describe('a long session on a new device', () => {
  it('renders the latest answer from the snapshot, then scrolls back through every older turn, on each page', async () => {
    const { sessionId } = env.newSession({ id: PAGES[0]!.id, path: PAGES[0]!.path });
    const writer = createDurableSession({
      sessionId,
      adapter: httpAdapter<SessionEvent>({ baseUrl: env.playground.url }),
      persistence: 'memory',
      tabs: false,
    });
    const turnIds: string[] = [];
    try {
      for (let i = 0; i < TURNS; i++) {
        const turnId = await writer.send(`Write 40 words about turn ${i}`);
        turnIds.push(turnId);
        await waitFor(writer, (s) => s.turns.some((t) => t.turnId === turnId && t.status !== 'streaming'), 30_000);
      }
    } finally {
      await writer.close();
    }
    const latest = expectedText((await env.playground.readTurn(sessionId, turnIds.at(-1)!))?.text);

    for (const { id, path } of PAGES) {
      const context = await newDevice(env.browser);
      try {
        // Hold the requests for older pages until the first render was counted.
        let release!: () => void;
        const gate = new Promise<void>((resolve) => (release = resolve));
        let olderPages = 0;
        await context.route(/[?&]before=/, async (route) => {
          olderPages++;
          await gate;
          await route.continue();
        });
        const chat = await ChatPage.open(context, `${env.playground.url}${path}?session=${sessionId}`);
        await until(`the latest answer on the ${id} page`, async () => (await chat.text(turnIds.at(-1)!)) === latest, 15_000);
        expect(await chat.page.locator('[data-testid="turn"]').count()).toBe(10); // the snapshot's 10 latest turns
        await chat.screenshot(`${id}-long-session-latest`);
        release();
        const ids = async (): Promise<(string | null)[]> =>
          chat.page.locator('[data-testid="turn"]').evaluateAll((turns) => turns.map((turn) => turn.getAttribute('data-turn-id')));
        await until(
          `every older turn on the ${id} page after scrolling up`,
          async () => {
            await chat.page.evaluate(() => window.scrollTo(0, 0));
            return (await ids()).length === TURNS;
          },
          20_000,
          200,
        );
        expect(await ids()).toEqual(turnIds);
        expect(olderPages).toBeGreaterThanOrEqual(2);
        expect(chat.errors).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });
});
