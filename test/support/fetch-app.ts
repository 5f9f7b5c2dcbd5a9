import { createSessionServer, listen, type ListeningServer, type SessionServer } from '@durable-session/server';

/**
 * A chat app as a test would deploy it: the session server's handler under `/v1/` and the
 * app's own routes beside it, served by node:http on 127.0.0.1.
 */
export interface FetchApp {
  readonly url: string;
  readonly sessions: SessionServer;
  readonly running: ListeningServer;
  /** The session's events, as stored. */
  events(sessionId: string): Promise<Array<{ type: string; turnId?: string; reason?: string; text?: string }>>;
  close(): Promise<void>;
}

export async function startFetchApp(route: (request: Request, sessions: SessionServer) => Promise<Response>): Promise<FetchApp> {
  const sessions = createSessionServer({ onError: () => undefined });
  const running = await listen(
    async (request) => {
      if (new URL(request.url).pathname.startsWith('/v1/')) return sessions.handler(request);
      try {
        return await route(request, sessions);
      } catch (error) {
        return new Response(String(error), { status: 500 });
      }
    },
    { port: 0, onError: () => undefined },
  );
  return {
    url: running.url,
    sessions,
    running,
    async events(sessionId) {
      const read = await sessions.store.read(sessionId, { from: '-1' });
      if (read.status !== 'ok') throw new Error(`cannot read ${sessionId}: ${read.status}`);
      return read.entries.map((e) => JSON.parse(new TextDecoder().decode(e.data)) as { type: string });
    },
    async close() {
      await running.close();
      await sessions.close();
    },
  };
}

/** Poll `check` every 10 ms until it returns a value other than `undefined` (at most `ms`). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
