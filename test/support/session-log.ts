import type { SessionEvent } from '@durable-session/core';

/** Every event of a session, read over HTTP from a server at `baseUrl` (catch-up pages, bounded). */
export async function sessionLog(baseUrl: string, sessionId: string): Promise<SessionEvent[]> {
  const events: SessionEvent[] = [];
  let offset = '-1';
  for (let i = 0; i < 1000; i++) {
    const res = await fetch(`${baseUrl}/v1/stream/${sessionId}?offset=${offset}`);
    if (res.status !== 200) throw new Error(`read ${sessionId}: ${res.status}`);
    events.push(...((await res.json()) as SessionEvent[]));
    offset = res.headers.get('stream-next-offset') ?? offset;
    if (res.headers.get('stream-up-to-date') === 'true') return events;
  }
  throw new Error('the log did not end');
}
