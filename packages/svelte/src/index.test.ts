import { createDurableSession, memoryAdapter, type AppEvent, type DurableSessionOptions, type MemoryAdapter, type SessionEvent } from '@durable-session/core';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { flushSync } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import Chat from './fixtures/Chat.svelte';
import Store from './fixtures/Store.svelte';
import Toggle from './fixtures/Toggle.svelte';
import { framed, useDurableSession } from './index';


function agent(adapter: MemoryAdapter, sessionId: string) {
  let seq = 0;
  return (event: SessionEvent): Promise<void> => adapter.append(sessionId, event, { producerId: 'agent', epoch: 0, seq: seq++ });
}

const options = (adapter: MemoryAdapter, sessionId = 's1'): DurableSessionOptions<AppEvent> => ({ sessionId, adapter, persistence: 'memory', tabs: false, clientId: 'c1' });

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('useDurableSession (Svelte runes)', () => {
  it('renders the transcript from a stream of events', async () => {
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    render(Chat, { props: { source: options(adapter) } });
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    await write({ type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'other-tab' });
    await write({ type: 'turn.start', turnId: 't1', agentId: 'bot' });
    for (const text of ['Hel', 'lo ', 'there']) await write({ type: 'delta', turnId: 't1', agentId: 'bot', text });
    await write({ type: 'turn.end', turnId: 't1', agentId: 'bot', reason: 'complete' });
    await waitFor(() => expect(screen.getByTestId('turn-t1').textContent).toBe('Hi: Hello there (complete)'));
  });

  it('calls send, steer and cancel through to the session', async () => {
    const adapter = memoryAdapter();
    render(Chat, { props: { source: options(adapter) } });
    await fireEvent.click(screen.getByText('send'));
    await waitFor(() => expect(screen.getByTestId('turn-t1').textContent).toBe('Hello:  (streaming)'));
    await fireEvent.click(screen.getByText('steer'));
    await fireEvent.click(screen.getByText('cancel'));
    await waitFor(() => expect(screen.getByTestId('turn-t1').textContent).toBe('Hello:  (cancelled)'));
    expect(adapter.events('s1')).toEqual([
      { type: 'prompt', turnId: 't1', text: 'Hello', clientId: 'c1' },
      { type: 'steer', turnId: 't1', text: 'shorter', clientId: 'c1' },
      { type: 'cancel', turnId: 't1', clientId: 'c1' },
    ]);
  });

  it('opens one connection while rendered and closes the session after unmount', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const { unmount } = render(Chat, { props: { source: options(adapter) } });
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
    const chat = useDurableSession(options(adapter));
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
    const chat = useDurableSession(options(adapter));
    expect(chat.current.status).toBe('connecting');
    expect(read).not.toHaveBeenCalled();
    await chat.send('Hi', { turnId: 't1' });
    expect(adapter.events('s1')).toEqual([{ type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'c1' }]);
    await waitFor(() => expect(read.mock.calls[0]![2].signal.aborted).toBe(true)); // nobody renders it: closed
  });

  it('never closes a session it was given', async () => {
    const session = createDurableSession(options(memoryAdapter()));
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
    const session = createDurableSession(options(adapter));
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
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => setTimeout(() => cb(performance.now()), 16));
    vi.stubGlobal('cancelAnimationFrame', (id: number) => clearTimeout(id));
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    let updates = 0;
    render(Chat, { props: { source: options(adapter), onupdate: () => updates++ } });
    await vi.advanceTimersByTimeAsync(20);
    expect(screen.getByTestId('status').textContent).toBe('live');
    void write({ type: 'prompt', turnId: 't1', text: 'Count', clientId: 'x' });
    void write({ type: 'turn.start', turnId: 't1', agentId: 'bot' });
    await vi.advanceTimersByTimeAsync(20);
    const before = updates;
    let expected = '';
    for (let ms = 0; ms < 1000; ms++) {
      for (const text of [`${2 * ms} `, `${2 * ms + 1} `]) {
        expected += text;
        void write({ type: 'delta', turnId: 't1', agentId: 'bot', text });
      }
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(20);
    flushSync();
    expect(adapter.events('s1')).toHaveLength(2002);
    const streamed = updates - before;
    expect(streamed).toBeGreaterThan(10);
    expect(streamed).toBeLessThanOrEqual(Math.ceil(1020 / 16));
    expect(screen.getByTestId('turn-t1').textContent).toBe(`Count: ${expected} (streaming)`);
  });
});
