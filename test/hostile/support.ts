import { connect } from 'node:net';
import { expect } from 'vitest';

export const JSON_TYPE = { 'content-type': 'application/json' };
export type Ev = { type: string; turnId?: string; agentId?: string; text?: string; reason?: string; clientId?: string; [k: string]: unknown };

/** Small HTTP helpers against one server. */
export function client(base: string) {
  const url = (id: string, query = ''): string => `${base}/v1/stream/${encodeURIComponent(id)}${query}`;
  const put = (id: string, headers: Record<string, string> = JSON_TYPE, body?: string) => fetch(url(id), { method: 'PUT', headers, body });
  const post = (id: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url(id), { method: 'POST', headers: { ...JSON_TYPE, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  /** Every event of a session, read page by page (bounded). */
  const events = async (id: string): Promise<Ev[]> => {
    const all: Ev[] = [];
    let offset = '-1';
    for (let page = 0; page < 1000; page++) {
      const res = await fetch(url(id, `?offset=${offset}`));
      if (res.status !== 200) throw new Error(`GET ${id} answered ${res.status}`);
      all.push(...((await res.json()) as Ev[]));
      offset = res.headers.get('stream-next-offset') ?? '';
      if (res.headers.get('stream-up-to-date') === 'true') return all;
    }
    throw new Error('too many pages');
  };
  /** Poll until `done(events)` holds (bounded, 20 s). */
  const until = async (id: string, done: (events: Ev[]) => boolean): Promise<Ev[]> => {
    for (let i = 0; i < 400; i++) {
      const list = await events(id);
      if (done(list)) return list;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting on ${id}`);
  };
  /** The server still serves: a new session takes an event and gives it back. */
  const healthy = async (): Promise<void> => {
    const id = `health-${Math.random().toString(36).slice(2)}`;
    expect((await put(id)).status).toBe(201);
    expect((await post(id, { type: 'note', text: 'ok' })).status).toBe(204);
    expect(await events(id)).toEqual([{ type: 'note', text: 'ok' }]);
  };
  return { url, put, post, events, until, healthy };
}

/** The error code of a JSON error response. */
export async function codeOf(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

/** Send raw bytes on a new TCP connection; resolve with what came back once the server closed it or `ms` passed. */
export function rawRequest(base: string, text: string, ms = 5000): Promise<{ response: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(text));
    let response = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ response, closedByServer: false });
    }, ms);
    socket.on('data', (d) => (response += d.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ response, closedByServer: true });
    });
  });
}
