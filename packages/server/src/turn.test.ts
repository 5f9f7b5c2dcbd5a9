import { afterEach, describe, expect, it } from 'vitest';
import { createSessionHost, type SessionHost } from './host';
import { memoryStore } from './memory-store';
import type { AppendOptions, SessionStore } from './store';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A memory store whose appends to `id` can be made to fail: `before` throws without
 * writing, `after` writes and then throws (the reply is lost, as with a network store).
 */
function flakyStore(id: string) {
  const inner = memoryStore();
  const failures = { before: 0, after: 0 };
  const store: SessionStore = {
    create: (sid, o) => inner.create(sid, o),
    head: (sid, o) => inner.head(sid, o),
    read: (sid, o) => inner.read(sid, o),
    wait: (sid, after, signal) => inner.wait(sid, after, signal),
    delete: (sid) => inner.delete(sid),
    putSnapshot: (sid, snapshot) => inner.putSnapshot(sid, snapshot),
    getSnapshot: (sid) => inner.getSnapshot(sid),
    close: () => inner.close(),
    async append(sid: string, options: AppendOptions) {
      if (sid === id && failures.before > 0) {
        failures.before--;
        throw new Error('ECONNREFUSED');
      }
      const outcome = await inner.append(sid, options);
      if (sid === id && failures.after > 0) {
        failures.after--;
        throw new Error('ECONNRESET (reply lost)');
      }
      return outcome;
    },
  };
  return { store, failures };
}

function hostOver(store: SessionStore): SessionHost {
  const host = createSessionHost({ store, onError: () => undefined });
  cleanups.push(async () => {
    await host.close();
    await store.close();
  });
  return host;
}

/** Turn `t` of agent `a` in session `s`, over a store whose appends fail as `failures` says. */
async function flakyTurn() {
  const { store, failures } = flakyStore('s');
  const host = hostOver(store);
  const turn = await host.session('s').startTurn({ agentId: 'a', turnId: 't' });
  return { host, turn, failures };
}

async function texts(host: SessionHost, id: string): Promise<string[]> {
  const { events } = await host.session(id).read();
  return events.map(({ event }) => {
    const e = event as { type: string; text?: string; reason?: string };
    return e.type === 'delta' ? `delta:${e.text ?? ''}` : e.type === 'turn.end' ? `end:${e.reason ?? ''}` : e.type;
  });
}

describe('turn writer: appends whose outcome is unknown', () => {
  it('a write stored but not acknowledged rejects, and the writes after it are still stored', async () => {
    const { host, turn, failures } = await flakyTurn();
    await turn.write('A');
    failures.after = 3; // every attempt (first and both retries) loses its reply
    await expect(turn.write('B')).rejects.toThrow('ECONNRESET');
    await turn.write('C');
    await turn.end('complete');
    // B is stored once (the retries were deduplicated); C and turn.end are not mistaken for B's retries
    expect(await texts(host, 's')).toEqual(['turn.start', 'delta:A', 'delta:B', 'delta:C', 'end:complete']);
  });

  it('the turn.end after such a write is stored (the turn does not stream forever)', async () => {
    const { host, turn, failures } = await flakyTurn();
    failures.after = 3;
    await expect(turn.write('B')).rejects.toThrow('ECONNRESET');
    await turn.end('error', 'store trouble');
    expect(await texts(host, 's')).toEqual(['turn.start', 'delta:B', 'end:error']);
  });

  it('a write never stored rejects, and the writes after it are stored without a gap error', async () => {
    const { host, turn, failures } = await flakyTurn();
    failures.before = 3;
    await expect(turn.write('lost')).rejects.toThrow('ECONNREFUSED');
    await turn.write('C');
    await turn.end('complete');
    expect(await texts(host, 's')).toEqual(['turn.start', 'delta:C', 'end:complete']);
  });

  it('a reply lost once is retried with the same seq: stored once, reported as written', async () => {
    const { host, turn, failures } = await flakyTurn();
    failures.after = 1;
    await turn.write('B');
    await turn.end('complete');
    expect(await texts(host, 's')).toEqual(['turn.start', 'delta:B', 'end:complete']);
  });
});
