import { createDurableSession, memoryAdapter } from '@durable-session/core';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { agent, bindingOptions, CONTROL_EVENTS, fakeAnimationFrames, stream2000Deltas, writeHelloTurn } from '../../../test/support/bindings';
import Chat from './fixtures/Chat.svelte';
import Store from './fixtures/Store.svelte';
import Toggle from './fixtures/Toggle.svelte';
import { framed, useDurableSession } from './index';

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('useDurableSession (Svelte runes)', () => {
  it('renders the transcript from a stream of events', async () => {
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    render(Chat, { props: { source: bindingOptions(adapter) } });
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    await writeHelloTurn(write);
    await waitFor(() => expect(screen.getByTestId('turn-t1').textContent).toBe('Hi: Hello there (complete)'));
  });

  it('calls send, steer and cancel through to the session', async () => {
    const adapter = memoryAdapter();
    render(Chat, { props: { source: bindingOptions(adapter) } });
    await fireEvent.click(screen.getByText('send'));
    await waitFor(() => expect(screen.getByTestId('turn-t1').textContent).toBe('Hello:  (streaming)'));
    await fireEvent.click(screen.getByText('steer'));
    await fireEvent.click(screen.getByText('cancel'));
    await waitFor(() => expect(screen.getByTestId('turn-t1').textContent).toBe('Hello:  (cancelled)'));
    expect(adapter.events('s1')).toEqual(CONTROL_EVENTS);
  });

  it('opens one connection while rendered and closes the session after unmount', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const { unmount } = render(Chat, { props: { source: bindingOptions(adapter) } });
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    await fireEvent.click(screen.getByText('send'));
    await waitFor(() => expect(screen.getByTestId('turn-t1')).toBeTruthy());
    expect(read).toHaveBeenCalledTimes(1);
    expect(adapter.events('s1').filter((e) => e.type === 'prompt')).toHaveLength(1);
    unmount();
    await waitFor(() => expect(read.mock.calls[0]![2].signal.aborted).toBe(true));
  });

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

  it('never closes a session it was given', async () => {
    const session = createDurableSession(bindingOptions(memoryAdapter()));
    const { unmount } = render(Chat, { props: { source: session } });
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    unmount();
    await new Promise((r) => setTimeout(r, 20));
    expect(session.get().status).toBe('live');
    await session.close();
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

  it('updates at most once per animation frame at 2,000 deltas a second, with no delta lost', async () => {
    vi.useFakeTimers();
    fakeAnimationFrames();
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    let updates = 0;
    render(Chat, { props: { source: bindingOptions(adapter), onupdate: () => updates++ } });
    await vi.advanceTimersByTimeAsync(20);
    expect(screen.getByTestId('status').textContent).toBe('live');
    void write({ type: 'prompt', turnId: 't1', text: 'Count', clientId: 'x' });
    void write({ type: 'turn.start', turnId: 't1', agentId: 'bot' });
    await vi.advanceTimersByTimeAsync(20);
    const before = updates;
    // 2,000 deltas over one second of (fake) time: two per millisecond.
    const expected = await stream2000Deltas(write);
    await vi.advanceTimersByTimeAsync(20);
    flushSync();
    expect(adapter.events('s1')).toHaveLength(2002);
    const streamed = updates - before;
    expect(streamed).toBeGreaterThan(10);
    expect(streamed).toBeLessThanOrEqual(Math.ceil(1020 / 16));
    expect(screen.getByTestId('turn-t1').textContent).toBe(`Count: ${expected} (streaming)`);
  });
});
