// The test page: one durable session over the page's own origin, exposed on `window` for
// Playwright (tests in test/browser, bench/tabs.bench.mjs). Bundled by esbuild from core's sources.
// Query: `?session=<id>` (required), `&tabs=false` (solo), `&live=long-poll`, `&live=websocket` (the socket adapter).
import { createDurableSession, httpAdapter, type DurableSession, type SessionSnapshot } from '../../../packages/core/src/index';
import { websocketAdapter } from '../../../packages/core/src/websocket';

/** One event as this page applied it, with the time it was applied (ms since the epoch, sub-ms). */
export interface Applied {
  type: string;
  turnId: string | undefined;
  text: string | undefined;
  offset: string;
  at: number;
}

/** The parts of a snapshot a test compares (JSON-safe). */
export interface PageSnap extends Pick<SessionSnapshot, 'status' | 'offset' | 'tabs' | 'persistence' | 'resumed' | 'activeTurnId'> {
  turns: { turnId: string; text: string; status: string }[];
  error: string | undefined;
}

declare global {
  interface Window {
    session: DurableSession;
    applied: Applied[];
    problems: string[];
    /** What the tab rendered from IndexedDB before any network or tab message, if anything. */
    restored: { offset: string; texts: Record<string, string> } | undefined;
    /** When this tab became the leader (same clock as `Applied.at`). */
    ledAt: number | undefined;
    snap(): PageSnap;
  }
}

const query = new URLSearchParams(location.search);
const session = createDurableSession({
  sessionId: query.get('session') ?? 'default',
  adapter:
    query.get('live') === 'websocket'
      ? websocketAdapter({ url: `ws://${location.host}/v1/socket` })
      : httpAdapter({ baseUrl: location.origin, live: query.get('live') === 'long-poll' ? 'long-poll' : 'sse' }),
  tabs: query.get('tabs') !== 'false',
});
const now = (): number => performance.timeOrigin + performance.now();
window.session = session;
window.applied = [];
window.problems = [];
window.restored = undefined;
window.ledAt = undefined;
session.subscribe((s) => {
  if (s.tabs === 'leader') window.ledAt ??= now();
});
const stop = session.subscribe((s) => {
  if (!s.resumed) return;
  window.restored = { offset: s.offset, texts: Object.fromEntries(s.turns.map((t) => [t.turnId, t.text])) };
  queueMicrotask(stop);
});
session.on('event', ({ event, offset }) => {
  const e = event as { type: string; turnId?: string; text?: string };
  window.applied.push({ type: e.type, turnId: e.turnId, text: e.text, offset, at: now() });
});
session.on('warning', (e) => window.problems.push(`warning ${e.code}: ${e.message}`));
session.on('error', (e) => window.problems.push(`error ${e.code}: ${e.message}`));
window.snap = () => {
  const s = session.get();
  return {
    status: s.status,
    offset: s.offset,
    tabs: s.tabs,
    persistence: s.persistence,
    resumed: s.resumed,
    activeTurnId: s.activeTurnId,
    turns: s.turns.map((t) => ({ turnId: t.turnId, text: t.text, status: t.status })),
    error: s.error?.message,
  };
};
