import type { Route } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { COMPARE_AGENTS } from '../../playground/server/index';
import { ChatPage, PAGES, expectedText, squash, withoutMarkers } from './support/chat-page';
import { newDevice } from './support/chromium';
import { e2e, sleep } from './support/fixture';
import { until } from './support/until';

// Reload from IndexedDB, the demo "drop connection" switch, and two agents writing into one turn
// (with a steer), on each page.
const env = e2e();

describe.each(PAGES.map((page) => [page.label, page] as const))('%s page', (_label, { id, path }) => {
  const newSession = () => env.newSession({ id, path });

  it('reload mid-answer renders at once from IndexedDB (session API held back), then continues to the full answer', async () => {
    const { sessionId, url } = newSession();
    const context = await newDevice(env.browser);
    try {
      const chat = await ChatPage.open(context, url);
      const turnId = await chat.send('Write 600 words about reloading mid-answer');
      await chat.waitForText(turnId, 150);
      await sleep(400); // the snapshot is saved to IndexedDB at most 250 ms after it changed

      // Hold every request to the session API until released: whatever shows comes from this device.
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const held: Promise<void>[] = [];
      const hold = (route: Route): Promise<void> => {
        const continued = gate.then(() => route.continue());
        held.push(continued);
        return continued;
      };
      await chat.page.route('**/v1/stream/**', hold);
      await chat.page.reload({ waitUntil: 'load', timeout: 15_000 });
      const restored = await chat.waitForText(turnId, 1, 3000);
      expect(await chat.badge()).not.toBe('live');
      await until('the reloaded page to ask the session API', () => held.length > 0, 5000);
      expect(await chat.text(turnId)).toBe(restored); // nothing from the network yet
      await chat.screenshot(`${id}-4-reload-from-indexeddb`);

      release();
      await Promise.all(held);
      await chat.page.unroute('**/v1/stream/**', hold);
      await chat.waitForStatus(turnId, 'complete', 30_000);
      const stored = await env.playground.readTurn(sessionId, turnId);
      const expected = expectedText(stored?.agents.assistant);
      const shownFirst = withoutMarkers(restored);
      expect(withoutMarkers(expected).slice(0, shownFirst.length)).toBe(shownFirst); // what IndexedDB gave is the answer's start
      expect(restored.length).toBeLessThan(expected.length);
      expect(await chat.text(turnId)).toBe(expected);
      await chat.page.locator('[data-testid="resume-notice"][data-kind="restored"]').waitFor({ timeout: 5000 });
      expect(chat.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the "Drop connection" button cuts this tab off for 3 s: nothing arrives meanwhile, then the answer resumes in full', async () => {
    const { sessionId, url } = newSession();
    const context = await newDevice(env.browser);
    try {
      const chat = await ChatPage.open(context, url);
      await chat.waitForBadge('live');
      const turnId = await chat.send('Write 450 words about the drop button');
      await chat.waitForText(turnId, 60);
      await chat.page.getByTestId('drop-connection').click();
      await chat.waitForBadge('reconnecting', 2000);
      expect(await chat.page.getByTestId('drop-connection').isDisabled()).toBe(true);
      const shown = await chat.text(turnId);
      await until(
        'the server to hold more than the page shows',
        async () => expectedText((await env.playground.readTurn(sessionId, turnId))?.agents.assistant).length > shown.length + 40,
        2000,
      );
      expect(await chat.text(turnId)).toBe(shown); // cut off: nothing arrived
      await chat.screenshot(`${id}-6-drop-button-dropped`);

      await chat.waitForStatus(turnId, 'complete', 30_000);
      const stored = await env.playground.readTurn(sessionId, turnId);
      expect(await chat.text(turnId)).toBe(expectedText(stored?.agents.assistant));
      await chat.page.locator('[data-testid="resume-notice"][data-kind="resumed"]').waitFor({ timeout: 5000 });
      expect(await chat.badge()).toBe('live');
      expect(chat.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('two agents write into one turn side by side, and both change course on a steer', async () => {
    const { sessionId, url } = newSession();
    const context = await newDevice(env.browser);
    try {
      const chat = await ChatPage.open(context, url);
      const turnId = await chat.send('compare SSE and long-polling in 300 words');
      const [left, right] = COMPARE_AGENTS;
      await until(
        'both agents to be writing at the same time',
        async () =>
          (await chat.text(turnId, left)).length > 30 &&
          (await chat.text(turnId, right)).length > 30 &&
          (await chat.turn(turnId).locator('[data-testid="answer"].answer-streaming').count()) === 2,
        15_000,
      );
      // Side by side: measured in one go (the page scrolls while the answers grow).
      const [leftBox, rightBox] = await chat.turn(turnId).evaluate((turn, agents) => agents.map((agent) => turn.querySelector(`[data-agent="${agent}"]`)?.getBoundingClientRect().toJSON() as DOMRect | undefined), [left, right]);
      if (!leftBox || !rightBox) throw new Error('an agent column is missing');
      expect(rightBox.x).toBeGreaterThanOrEqual(leftBox.x + leftBox.width);
      expect(Math.abs(rightBox.y - leftBox.y)).toBeLessThan(1);

      await chat.page.getByTestId('steer-input').fill('focus on mobile networks');
      await chat.page.getByTestId('steer').click();
      const marker = squash('Changing course: focus on mobile networks');
      await until(
        'both agents to change course',
        async () => (await chat.text(turnId, left)).includes(marker) && (await chat.text(turnId, right)).includes(marker),
        10_000,
      );
      await chat.page.getByTestId('steer-note').getByText('focus on mobile networks').waitFor({ timeout: 5000 });
      await chat.waitForStatus(turnId, 'complete', 30_000);

      const stored = await env.playground.readTurn(sessionId, turnId);
      expect(stored?.ended).toEqual({ assistant: 'complete', [left]: 'complete', [right]: 'complete' });
      expect(stored?.steers).toEqual(['focus on mobile networks']);
      expect(await chat.text(turnId, left)).toBe(expectedText(stored?.agents[left]));
      expect(await chat.text(turnId, right)).toBe(expectedText(stored?.agents[right]));
      await chat.screenshot(`${id}-5-two-agents-steered`);
      expect(chat.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe('page links', () => {
  it('a page without ?session= gets a new one; the React, Vue and Svelte links keep it', async () => {
    const context = await newDevice(env.browser);
    try {
      const react = await ChatPage.open(context, `${env.playground.url}/`);
      const sessionId = new URL(react.page.url()).searchParams.get('session');
      expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await react.shareLink()).toBe(`${env.playground.url}/?session=${sessionId}`);
      const turnId = await react.send('Write 40 words about page links');
      await react.waitForStatus(turnId, 'complete');
      const text = await react.text(turnId);

      for (const [id, path] of [['vue', '/vue.html'], ['svelte', '/svelte.html'], ['react', '/']] as const) {
        await react.page.getByTestId(`page-${id}`).click();
        await react.page.waitForURL(`${env.playground.url}${path}?session=${sessionId}`, { timeout: 10_000 });
        expect(await react.waitForText(turnId, text.length, 5000)).toBe(text);
        expect(await react.page.getByTestId(`page-${id}`).getAttribute('aria-current')).toBe('page');
      }
      await react.screenshot('links-back-on-react');
      expect(react.errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
