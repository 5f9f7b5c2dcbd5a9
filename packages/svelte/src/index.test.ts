import { createDurableSession, memoryAdapter } from '@durable-session/core';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { describe, expect, it, vi } from 'vitest';
import { runBindingContract } from '../../../test/support/binding-contract';
import { agent, bindingOptions, resetAfterEach } from '../../../test/support/bindings';
import Chat from './fixtures/Chat.svelte';
import Store from './fixtures/Store.svelte';
import Toggle from './fixtures/Toggle.svelte';
import { framed, useDurableSession } from './index';

resetAfterEach(cleanup);

describe('useDurableSession (Svelte runes)', () => {
  it('keeps the session while an {#if} toggles its only reader', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const chat = useDurableSession(bindingOptions(adapter));
    const { rerender } = render(Toggle, { props: { chat, show: true } });
    await waitFor(() => expect(screen.getByTestId('toggle').textContent).toBe('live'));
    await rerender({ chat, show: false });
    await rerender({ chat, show: true });
    await new Promise((r) => setTimeout(r, 10));
    expect(screen.getByTestId('toggle').textContent).toBe('live');
    expect(read).toHaveBeenCalledTimes(1);
    await rerender({ chat, show: false });
    await waitFor(() => expect(read.mock.calls[0]![2].signal.aborted).toBe(true));
  });

  it('does not connect when `current` is read outside an effect, and keeps a session open for a call', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const chat = useDurableSession(bindingOptions(adapter));
    expect(chat.current.status).toBe('connecting');
    expect(read).not.toHaveBeenCalled();
    await chat.send('Hi', { turnId: 't1' });
    expect(adapter.events('s1')).toEqual([{ type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'c1' }]);
    await waitFor(() => expect(read.mock.calls[0]![2].signal.aborted).toBe(true)); // nobody renders it: closed
  });

  it('keeps the store contract: $session and a framed store render', async () => {
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    const session = createDurableSession(bindingOptions(adapter));
    render(Store, { props: { store: framed(session) } });
    await write({ type: 'delta', turnId: 't1', agentId: 'bot', text: 'Hello' });
    await waitFor(() => expect(screen.getByTestId('store').textContent).toBe('live: Hello'));
    cleanup();
    render(Store, { props: { store: session } });
    expect(screen.getByTestId('store').textContent).toBe('live: Hello');
    await session.close();
  });

});

// Last, as before the contract suite existed: renders later in the same file fail after its fake-timer case.
runBindingContract('Svelte', {
  render: (source, { onRender } = {}) => render(Chat, { props: { source, onupdate: onRender } }),
  click: (text) => fireEvent.click(screen.getByText(text)),
  waitFor,
  getByTestId: (id) => screen.getByTestId(id),
  settle: flushSync,
});
