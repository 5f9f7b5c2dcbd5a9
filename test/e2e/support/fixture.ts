import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, inject } from 'vitest';
import { startPlayground, type Playground } from '../../../playground/server/index';
import { launchChromium } from '../../support/chromium';

/** What a test file of the e2e project runs against. */
export interface E2E {
  /** The playground server (session API, agent, built app) on 127.0.0.1. */
  readonly playground: Playground;
  readonly browser: Browser;
  /** A fresh session id and its URL on one page of the playground, over a transport (default SSE). */
  newSession(page: { id: string; path: string; transport?: 'sse' | 'long-poll' | 'websocket' }): { sessionId: string; url: string };
}

/**
 * Start the playground (agent at 150 tokens/s) and Chromium before the file's tests, and stop
 * both after them.
 */
export function e2e(): E2E {
  let playground: Playground | undefined;
  let browser: Browser | undefined;
  let sessions = 0;
  beforeAll(async () => {
    playground = await startPlayground({ port: 0, host: '127.0.0.1', tokensPerSecond: 150, staticDir: inject('playgroundApp') });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await playground?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the e2e fixture is not started (use it inside a test)');
    return value;
  };
  return {
    get playground() {
      return started(playground);
    },
    get browser() {
      return started(browser);
    },
    newSession({ id, path, transport = 'sse' }) {
      const sessionId = `e2e-${id}-${Date.now().toString(36)}-${++sessions}`;
      const query = transport === 'sse' ? '' : `&transport=${transport}`;
      return { sessionId, url: `${started(playground).url}${path}?session=${sessionId}${query}` };
    },
  };
}

/** Wait `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
