// Real-browser harness: one node:http server on 127.0.0.1:0 serving the test page (bundled with
// esbuild from core's sources) and our session server's handler for /v1/... (and its WebSocket), with the demo agent
// on the host; one headless Chromium (the system's, found by test/support/chromium.ts, never downloaded). Tabs are pages of one
// browser context, so they share BroadcastChannel, Web Locks and IndexedDB like real tabs.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createSessionServer, demoAgent, listen, type ListeningServer, type PromptHandler, type SessionServer } from '@durable-session/server';
import type { PageSnap } from './page';
import { launchChromium } from '../../support/chromium';

/** Live reads (`GET …?live=…`) that reached the server for one session. */
export interface ReadCount {
  inFlight: number;
  total: number;
}

export interface Harness {
  url: string;
  server: SessionServer;
  browser: Browser;
  context: BrowserContext;
  /** Per session id. */
  reads: Map<string, ReadCount>;
  /** Turn ids whose AbortSignal fired on the host. */
  aborted: Set<string>;
  /** Open a tab on `sessionId`; resolves once the page script ran. */
  open(sessionId: string, query?: Record<string, string>): Promise<Page>;
  /** Every event of a session, read from the server's store. */
  log(sessionId: string): Promise<{ type: string; turnId?: string; text?: string; reason?: string }[]>;
  close(): Promise<void>;
}

/** Bundle the test page from core's sources (browser, ESM). */
export async function bundlePage(): Promise<string> {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

export const PAGE_HTML = '<!doctype html><meta charset="utf-8"><title>durable-session test tab</title><script type="module" src="/page.js"></script>';

export async function startHarness(options: { agent?: PromptHandler } = {}): Promise<Harness> {
  const script = await bundlePage();
  const server = createSessionServer({ onError: (e) => console.error('[server]', e) });
  const agent = options.agent ?? demoAgent({ delayMs: 10 });
  const aborted = new Set<string>();
  server.host.onPrompt(
    (ctx) => {
      ctx.turn.signal.addEventListener('abort', () => aborted.add(ctx.turn.turnId));
      return agent(ctx);
    },
    { agentId: 'demo' },
  );
  const reads = new Map<string, ReadCount>();
  const handler = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === '/') return new Response(PAGE_HTML, { headers: { 'content-type': 'text/html' } });
    if (url.pathname === '/page.js') return new Response(script, { headers: { 'content-type': 'text/javascript' } });
    const id = /^\/v1\/stream\/([^/]+)$/.exec(url.pathname)?.[1];
    if (request.method !== 'GET' || !url.searchParams.has('live') || id === undefined) return server.handler(request);
    const count = reads.get(decodeURIComponent(id)) ?? { inFlight: 0, total: 0 };
    reads.set(decodeURIComponent(id), count);
    count.inFlight++;
    count.total++;
    let done = false;
    const end = (): void => {
      if (!done) count.inFlight--;
      done = true;
    };
    request.signal.addEventListener('abort', end);
    try {
      const response = await server.handler(request);
      if (!response.body) {
        end();
        return response;
      }
      const body = response.body.pipeThrough(new TransformStream({ flush: end }));
      return new Response(body, { status: response.status, headers: response.headers });
    } catch (e) {
      end();
      throw e;
    }
  };
  const running: ListeningServer = await listen({ handler, upgrade: server.upgrade }, { port: 0, host: '127.0.0.1', onError: (e) => console.error('[listen]', e) });
  const browser = await launchChromium();
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);

  return {
    url: running.url,
    server,
    browser,
    context,
    reads,
    aborted,
    async open(sessionId, query = {}) {
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error('[page]', e));
      await page.goto(`${running.url}/?${new URLSearchParams({ session: sessionId, ...query })}`);
      await page.waitForFunction(() => typeof window.snap === 'function');
      return page;
    },
    async log(sessionId) {
      const events: { type: string; turnId?: string; text?: string; reason?: string }[] = [];
      const session = server.host.session(sessionId);
      for (let from = '-1'; ; ) {
        const read = await session.read({ from });
        events.push(...read.events.map((e) => e.event as (typeof events)[number]));
        if (read.upToDate || read.events.length === 0) return events;
        from = read.next;
      }
    },
    async close() {
      await browser.close().catch((e: unknown) => console.error('[browser close]', e));
      await running.close();
      await server.close();
    },
  };
}

/** The page's snapshot. */
export const snap = (page: Page): Promise<PageSnap> => page.evaluate(() => window.snap());

/** Poll `check` until it holds, at most `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
