import type { Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ChatPage, PAGES } from './support/chat-page';
import { newDevice } from './support/chromium';
import { e2e } from './support/fixture';
import { until } from './support/until';

// Live control in real Chromium, on each page: approvals answered from another device (across a
// reload, a concurrent second answer and a cut connection), steer states in every tab, presence,
// and the event inspector.
const env = e2e();

type Logged = { type: string; askId?: string; choice?: string };

/** The session's log as the server holds it. */
async function serverLog(sessionId: string): Promise<Logged[]> {
  const res = await fetch(`${env.playground.url}/v1/stream/${encodeURIComponent(sessionId)}?offset=-1`);
  return (await res.json()) as Logged[];
}

const question = (chat: ChatPage, state: string) => chat.page.locator(`[data-testid="question"][data-state="${state}"]`);

describe.each(PAGES.map((page) => [page.label, page] as const))('%s page', (_label, { id, path }) => {
  it('approvals: the agent asks, another device answers once (a concurrent answer is refused, a cut reply retried), every tab shows it, the agent continues', async () => {
    const { sessionId, url } = env.newSession({ id, path });
    const [deviceA, deviceB] = await Promise.all([newDevice(env.browser), newDevice(env.browser)]);
    try {
      const asker = await ChatPage.open(deviceA, url);
      const turnId = await asker.send('Draft the email to the team');
      await question(asker, 'open').waitFor({ timeout: 10_000 });
      await asker.page.reload({ waitUntil: 'load', timeout: 15_000 });
      await question(asker, 'open').waitFor({ timeout: 10_000 }); // still open after a reload

      const other = await ChatPage.open(deviceB, url);
      await question(other, 'open').waitFor({ timeout: 10_000 });
      // The other device's answer reaches the server but its reply is cut: the client retries it.
      let cut = false;
      const cutOnce = async (route: Route): Promise<void> => {
        if (cut || !route.request().postData()?.includes('"answer"')) return route.continue();
        cut = true;
        await route.fetch();
        await route.abort('connectionreset');
      };
      await other.page.route('**/v1/stream/**', cutOnce);
      const options = (chat: ChatPage) => question(chat, 'open').getByTestId('answer-option');
      // The other device answers (its reply is cut); the asker presses the other option while its page
      // still shows the question open: the second answer must be refused, whichever side notices.
      const [mine, theirs] = await Promise.all([options(other).first().elementHandle(), options(asker).last().elementHandle()]);
      await mine!.evaluate((button: HTMLElement) => button.click());
      await until('the answer to reach the server', () => cut, 10_000);
      await theirs!.evaluate((button: HTMLElement) => button.click());
      for (const chat of [asker, other]) await question(chat, 'answered').waitFor({ timeout: 10_000 });
      expect(cut).toBe(true);
      const log = await serverLog(sessionId);
      const answers = log.filter((e) => e.type === 'answer');
      expect(answers).toHaveLength(1);
      const outcome = answers[0]!.choice === 'Send it' ? 'email sent' : 'email not sent';
      for (const chat of [asker, other]) {
        expect(await question(chat, 'answered').getByTestId('question-outcome').textContent()).toContain(answers[0]!.choice);
      }
      await asker.waitForStatus(turnId, 'complete', 30_000);
      expect(await asker.turn(turnId).getByTestId('answer-text').textContent()).toContain(outcome);
      expect([...asker.errors, ...other.errors]).toEqual([]);
    } finally {
      await Promise.all([deviceA.close(), deviceB.close()]);
    }
  });
});

describe('react page', () => {
  const page = PAGES.find((p) => p.id === 'react')!;

  it('steer states show in every tab, in order (received, then applied, beside the steer)', async () => {
    const { url } = env.newSession(page);
    const device = await newDevice(env.browser);
    try {
      const first = await ChatPage.open(device, url);
      const second = await ChatPage.open(device, url);
      const turnId = await first.send('Write 600 words about steering');
      await first.waitForText(turnId, 40);
      const seen: string[] = [];
      const poll = setInterval(() => {
        void second.page
          .locator('[data-testid="steer-note"]')
          .first()
          .getAttribute('data-state', { timeout: 200 })
          .then((state) => state && seen.at(-1) !== state && seen.push(state), () => {});
      }, 20);
      await first.page.getByTestId('steer-input').fill('focus on mobile networks');
      await first.page.getByTestId('steer').click();
      for (const chat of [first, second]) await chat.page.locator('[data-testid="steer-note"][data-state="applied"]').waitFor({ timeout: 15_000 });
      clearInterval(poll);
      const order = ['sent', 'received', 'applied'];
      expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort());
      expect(seen.at(-1)).toBe('applied');
      expect(await first.page.locator('[data-testid="steer-note"]').first().textContent()).toContain('applied');
    } finally {
      await device.close();
    }
  });

  it('presence: tabs and a second device change the count within 5 s, nothing lands in the log; the inspector lists applied events', async () => {
    const { sessionId, url } = env.newSession(page);
    const [deviceA, deviceB] = await Promise.all([newDevice(env.browser), newDevice(env.browser)]);
    try {
      const watcher = await ChatPage.open(deviceA, url);
      const info = () => watcher.page.getByTestId('tab-info').textContent();
      await until('one tab watching', async () => (await info())?.includes('1 browser, 1 tab') === true, 5000);
      const tab2 = await ChatPage.open(deviceA, url);
      await until('two tabs of one browser', async () => (await info())?.includes('1 browser, 2 tabs') === true, 5000);
      const other = await ChatPage.open(deviceB, url);
      await until('a second browser', async () => (await info())?.includes('2 browsers, 3 tabs') === true, 5000);
      await Promise.all([tab2.page.close(), other.page.close()]);
      await until('back to one tab', async () => (await info())?.includes('1 browser, 1 tab') === true, 5000);

      const turnId = await watcher.send('Explain durable sessions');
      await watcher.waitForStatus(turnId, 'complete', 30_000);
      const log = await serverLog(sessionId);
      expect(log.every((e) => ['prompt', 'turn.start', 'delta', 'turn.end'].includes(e.type))).toBe(true);
      await watcher.page.getByTestId('inspector').locator('summary').click();
      const rows = watcher.page.getByTestId('inspector-row');
      await until('the inspector to list every event', async () => (await rows.count()) === log.length, 5000);
      expect(await rows.first().getAttribute('data-type')).toBe('prompt');
    } finally {
      await Promise.all([deviceA.close(), deviceB.close()]);
    }
  });
});
