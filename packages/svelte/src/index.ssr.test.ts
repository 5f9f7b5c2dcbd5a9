// @vitest-environment node
import { createDurableSession, memoryAdapter } from '@durable-session/core';
import { render } from 'svelte/server';
import { describe, expect, it, vi } from 'vitest';
import Chat from './fixtures/Chat.svelte';

const text = (html: string): string => html.replace(/<!--[^>]*-->/g, '').replace(/<button[^>]*>[^<]*<\/button>/g, '').trim();

describe('useDurableSession under svelte/server render', () => {
  it('renders the initial state without touching the network or IndexedDB', () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const append = vi.spyOn(adapter, 'append');
    const idb = vi.fn();
    vi.stubGlobal('indexedDB', { open: idb });
    try {
      const { body } = render(Chat, { props: { source: { sessionId: 's1', adapter } } });
      expect(text(body)).toBe('<p data-testid="status">connecting</p> <ul></ul> <span>0 turns</span>');
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
    const { body } = render(Chat, { props: { source: session } });
    expect(text(body)).toContain('<li data-testid="turn-t1">Hi: Hello (streaming)</li>');
    expect(session.get().status).toBe('live');
    await session.close();
  });
});
