import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { visibleText } from '../../../playground/src/shared/markdown';
import { until } from './until';

export { PAGES, type PageId } from '../../../playground/src/shared/session-url';

const ARTIFACTS = fileURLToPath(new URL('../../artifacts/', import.meta.url));
mkdirSync(ARTIFACTS, { recursive: true });

/** Whitespace-free text: how answers are compared (the page renders Markdown-ish blocks). */
export const squash = (text: string): string => text.replace(/\s+/g, '');

/** What the server stored for one agent of a turn, as the page should show it (whitespace-free). */
export const expectedText = (raw: string | undefined): string => visibleText(raw ?? '');

/**
 * Text without Markdown markers: a partial answer may show markers its end will hide (an
 * unclosed `**bold`, a lone `###` or `-` before its words arrive), so a prefix of the answer
 * is checked on this form.
 */
export const withoutMarkers = (text: string): string => text.replace(/[*`#-]/g, '');

/** One tab of the playground, driven through its `data-testid`s. */
export class ChatPage {
  /** Uncaught exceptions of the page. */
  readonly errors: string[] = [];
  /** URLs of the WebSockets this page opened. */
  readonly sockets: string[] = [];

  private constructor(readonly page: Page) {
    page.on('pageerror', (error) => this.errors.push(error.message));
    page.on('websocket', (socket) => this.sockets.push(socket.url()));
  }

  /** Open `url` in a new tab of `context` and wait until the chat rendered. */
  static async open(context: BrowserContext, url: string): Promise<ChatPage> {
    const chat = new ChatPage(await context.newPage());
    await chat.page.goto(url, { timeout: 15_000 });
    await chat.page.getByTestId('prompt-input').waitFor({ timeout: 15_000 });
    return chat;
  }

  turn(turnId: string): Locator {
    return this.page.locator(`[data-testid="turn"][data-turn-id="${turnId}"]`);
  }

  /** Send a prompt; resolves with the id of the turn it opened. */
  async send(text: string): Promise<string> {
    await this.page.getByTestId('prompt-input').fill(text);
    await this.page.getByTestId('send').click();
    const turn = this.page.locator('[data-testid="turn"]', { has: this.page.getByTestId('prompt').getByText(text, { exact: true }) }).last();
    await turn.waitFor({ timeout: 10_000 });
    const id = await turn.getAttribute('data-turn-id');
    if (!id) throw new Error('the turn has no data-turn-id');
    return id;
  }

  /** The answer of a turn as shown (whitespace-free): one agent's, or all agents' joined. */
  async text(turnId: string, agentId?: string): Promise<string> {
    const answer = this.turn(turnId).locator(agentId ? `[data-testid="answer"][data-agent="${agentId}"]` : '[data-testid="answer"]');
    return squash((await answer.locator('[data-testid="answer-text"]').allTextContents()).join(''));
  }

  async status(turnId: string): Promise<string | null> {
    return (await this.turn(turnId).count()) ? this.turn(turnId).getAttribute('data-status', { timeout: 1000 }) : null;
  }

  async badge(): Promise<string> {
    return ((await this.page.getByTestId('status-badge').textContent({ timeout: 5000 })) ?? '').trim();
  }

  async shareLink(): Promise<string> {
    return this.page.getByTestId('share-link').inputValue({ timeout: 5000 });
  }

  /** Wait until the turn shows `status` (`complete`, `cancelled`…). */
  waitForStatus(turnId: string, status: string, timeoutMs = 30_000): Promise<true> {
    return until(`turn ${turnId} to be ${status}`, async () => (await this.status(turnId)) === status, timeoutMs);
  }

  /** Wait until the turn shows at least `chars` characters of answer; resolves with them. */
  waitForText(turnId: string, chars: number, timeoutMs = 20_000, agentId?: string): Promise<string> {
    return until(`${chars} characters of turn ${turnId}`, async () => {
      const text = await this.text(turnId, agentId);
      return text.length >= chars && text;
    }, timeoutMs);
  }

  waitForBadge(status: string, timeoutMs = 15_000): Promise<true> {
    return until(`the badge to say ${status}`, async () => (await this.badge()) === status, timeoutMs);
  }

  /** Save a screenshot of the viewport (the page follows the latest text) as `test/artifacts/<name>.png`. */
  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({ path: `${ARTIFACTS}${name}.png`, timeout: 10_000 });
  }
}
