// @vitest-environment node
import { memoryAdapter } from '@durable-session/core';
import { render } from 'svelte/server';
import { describe, expect, it } from 'vitest';
import { liveHelloSession, probeServerRender } from '../../../test/support/bindings';
import Chat from './fixtures/Chat.svelte';

const text = (html: string): string => html.replace(/<!--[^>]*-->/g, '').replace(/<button[^>]*>[^<]*<\/button>/g, '').trim();

describe('useDurableSession under svelte/server render', () => {
  it('renders the initial state without touching the network or IndexedDB', async () => {
    const adapter = memoryAdapter();
    const probe = probeServerRender(adapter);
    const { body } = await probe.during(() => render(Chat, { props: { source: { sessionId: 's1', adapter } } }));
    expect(text(body)).toBe('<p data-testid="status">connecting</p> <ul></ul> <span>0 turns</span>');
    expect(probe.counts()).toEqual({ reads: 0, appends: 0, indexedDB: 0 });
  });

  it('renders the current snapshot of a session it was given', async () => {
    const session = await liveHelloSession();
    const { body } = render(Chat, { props: { source: session } });
    expect(text(body)).toContain('<li data-testid="turn-t1">Hi: Hello (streaming)</li>');
    expect(session.get().status).toBe('live');
    await session.close();
  });
});
