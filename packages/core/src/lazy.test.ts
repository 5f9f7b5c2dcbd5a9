import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryAdapter } from './adapters/memory';
import { isDurableSession, lazySession } from './lazy';
import { createDurableSession } from './session';
import type { SessionEvent } from './events';

const options = (adapter = memoryAdapter<SessionEvent>()) => ({ sessionId: 's1', adapter, persistence: 'memory' as const, tabs: false, clientId: 'c1' });
const tick = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => vi.restoreAllMocks());

describe('lazySession', () => {
  it('opens nothing until the first subscriber, and shows a connecting placeholder', () => {
    const adapter = memoryAdapter<SessionEvent>();
    const read = vi.spyOn(adapter, 'read');
    const lazy = lazySession(options(adapter));
    expect(lazy.get()).toBe(lazy.placeholder);
    expect(lazy.get()).toMatchObject({ sessionId: 's1', status: 'connecting', offset: '-1', turns: [] });
    expect(read).not.toHaveBeenCalled();
  });

  it('keeps one session across an unsubscribe and resubscribe in the same tick (StrictMode)', async () => {
    const adapter = memoryAdapter<SessionEvent>();
    const read = vi.spyOn(adapter, 'read');
    const lazy = lazySession(options(adapter));
    const stop = lazy.subscribe(() => {});
    stop();
    const stopAgain = lazy.subscribe(() => {});
    await tick();
    await vi.waitFor(() => expect(lazy.get().status).toBe('live'));
    expect(read).toHaveBeenCalledTimes(1);
    stopAgain();
    await tick();
    expect(lazy.get().status).toBe('closed');
  });

  it('keeps the session open while a method call runs, and creates one for it', async () => {
    const adapter = memoryAdapter<SessionEvent>();
    const lazy = lazySession(options(adapter));
    const turnId = await lazy.run((s) => s.send('Hello', { turnId: 't1' }));
    expect(turnId).toBe('t1');
    expect(adapter.events('s1')).toMatchObject([{ type: 'prompt', turnId: 't1', text: 'Hello' }]);
    await tick();
    expect(lazy.get().status).toBe('closed');
  });

  it('uses a given session as is and never closes it', async () => {
    const session = createDurableSession(options());
    expect(isDurableSession(session)).toBe(true);
    const lazy = lazySession(session);
    const stop = lazy.subscribe(() => {});
    stop();
    await tick();
    expect(lazy.get()).toBe(session.get());
    expect(session.get().status).not.toBe('closed');
    await session.close();
  });
});
