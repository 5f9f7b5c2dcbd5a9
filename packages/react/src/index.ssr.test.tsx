// @vitest-environment node
import { createDurableSession, memoryAdapter, type AppEvent } from '@durable-session/core';
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { useDurableSession, type DurableSessionSource } from './index';

function Chat({ source }: { source: DurableSessionSource<AppEvent> }) {
  const chat = useDurableSession(source);
  return (
    <main>
      <p>{chat.status}</p>
      {chat.turns.map((t) => (
        <p key={t.turnId}>{t.text}</p>
      ))}
      <span>{chat.turns.length} turns</span>
    </main>
  );
}

describe('useDurableSession under renderToString', () => {
  it('renders the initial state without touching the network or IndexedDB', () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const append = vi.spyOn(adapter, 'append');
    const idb = vi.fn();
    vi.stubGlobal('indexedDB', { open: idb });
    try {
      const html = renderToString(<Chat source={{ sessionId: 's1', adapter }} />);
      expect(html).toBe('<main><p>connecting</p><span>0<!-- --> turns</span></main>');
    } finally {
      vi.unstubAllGlobals();
    }
    expect(read).not.toHaveBeenCalled();
    expect(append).not.toHaveBeenCalled();
    expect(idb).not.toHaveBeenCalled();
  });

  it('renders the current snapshot of a session it was given', async () => {
    const adapter = memoryAdapter();
    await adapter.append('s1', { type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'c' }, { producerId: 'p', epoch: 0, seq: 0 });
    await adapter.append('s1', { type: 'delta', turnId: 't1', agentId: 'a', text: 'Hello' }, { producerId: 'p', epoch: 0, seq: 1 });
    const session = createDurableSession({ sessionId: 's1', adapter, persistence: 'memory' });
    await vi.waitFor(() => expect(session.get().status).toBe('live'));
    expect(renderToString(<Chat source={session} />)).toBe('<main><p>live</p><p>Hello</p><span>1<!-- --> turns</span></main>');
    await session.close();
  });
});
