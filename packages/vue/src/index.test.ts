import { createDurableSession, memoryAdapter, type AppEvent, type MemoryAdapter, type SessionEvent } from '@durable-session/core';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSSRApp, defineComponent, effectScope, h, nextTick, ref, type PropType } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { useDurableSession, type DurableSessionSource } from './index';

type Source = DurableSessionSource<AppEvent>;

function agent(adapter: MemoryAdapter, sessionId: string) {
  let seq = 0;
  return (event: SessionEvent): Promise<void> => adapter.append(sessionId, event, { producerId: 'agent', epoch: 0, seq: seq++ });
}

const options = (adapter: MemoryAdapter, sessionId = 's1') => ({ sessionId, adapter, persistence: 'memory' as const, tabs: false, clientId: 'c1' });

const Chat = defineComponent({
  props: {
    source: { type: [Object, Function] as PropType<Source | (() => Source)>, required: true },
    onRender: { type: Function as PropType<() => void>, default: undefined },
  },
  setup(props) {
    const { status, turns, send, steer, cancel } = useDurableSession(props.source);
    return () => {
      props.onRender?.();
      return h('div', [
        h('p', { 'data-testid': 'status' }, status.value),
        h('ul', turns.value.map((t) => h('li', { key: t.turnId, 'data-testid': `turn-${t.turnId}` }, `${t.prompt}: ${t.text} (${t.status})`))),
        h('button', { onClick: () => void send('Hello', { turnId: 't1' }) }, 'send'),
        h('button', { onClick: () => void steer('shorter', 't1') }, 'steer'),
        h('button', { onClick: () => void cancel('t1') }, 'cancel'),
      ]);
    };
  },
});

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('useDurableSession (Vue)', () => {
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

  it('opens one connection on mount and closes the session on unmount', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const { unmount } = render(Chat, { props: { source: options(adapter) } });
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    await fireEvent.click(screen.getByText('send'));
    await waitFor(() => expect(screen.getByTestId('turn-t1')).toBeTruthy());
    expect(read).toHaveBeenCalledTimes(1);
    expect(adapter.events('s1').filter((e) => e.type === 'prompt')).toHaveLength(1);
    unmount();
    expect(read.mock.calls[0]![2].signal.aborted).toBe(true);
  });

  it('hydrates server HTML without a mismatch, then connects', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const source = options(adapter);
    const container = document.createElement('div');
    container.innerHTML = await renderToString(createSSRApp(Chat, { source }));
    expect(read).not.toHaveBeenCalled();
    document.body.append(container);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const app = createSSRApp(Chat, { source });
    app.mount(container);
    await waitFor(() => expect(container.querySelector('[data-testid="status"]')?.textContent).toBe('live'));
    expect([...warn.mock.calls, ...error.mock.calls].filter((c) => /hydration/i.test(String(c[0])))).toEqual([]);
    expect(read).toHaveBeenCalledTimes(1);
    app.unmount();
    expect(read.mock.calls[0]![2].signal.aborted).toBe(true);
    container.remove();
    warn.mockRestore();
    error.mockRestore();
  });

  it('never closes a session it was given', async () => {
    const session = createDurableSession(options(memoryAdapter()));
    const { unmount } = render(Chat, { props: { source: session } });
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    unmount();
    expect(session.get().status).toBe('live');
    await session.close();
  });

  it('follows a reactive source: a new sessionId switches sessions', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const id = ref('a');
    render(Chat, { props: { source: () => options(adapter, id.value) } });
    await waitFor(() => expect(read).toHaveBeenCalledTimes(1));
    id.value = 'b';
    await waitFor(() => expect(read).toHaveBeenCalledTimes(2));
    expect(read.mock.calls.map((c) => c[0])).toEqual(['a', 'b']);
    expect(read.mock.calls[0]![2].signal.aborted).toBe(true);
    expect(read.mock.calls[1]![2].signal.aborted).toBe(false);
  });

  it('works in a bare effect scope, closing with it', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const scope = effectScope();
    const chat = scope.run(() => useDurableSession(options(adapter)))!;
    await vi.waitFor(() => expect(chat.status.value).toBe('live'));
    await chat.send('Hi', { turnId: 't1' });
    await vi.waitFor(() => expect(chat.turns.value.map((t) => t.prompt)).toEqual(['Hi']));
    scope.stop();
    expect(read).toHaveBeenCalledTimes(1);
    expect(read.mock.calls[0]![2].signal.aborted).toBe(true);
  });

  it('updates at most once per animation frame at 2,000 deltas a second, with no delta lost', async () => {
    vi.useFakeTimers();
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => setTimeout(() => cb(performance.now()), 16));
    vi.stubGlobal('cancelAnimationFrame', (id: number) => clearTimeout(id));
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    let renders = 0;
    render(Chat, { props: { source: options(adapter), onRender: () => renders++ } });
    await vi.advanceTimersByTimeAsync(20);
    expect(screen.getByTestId('status').textContent).toBe('live');
    void write({ type: 'prompt', turnId: 't1', text: 'Count', clientId: 'x' });
    void write({ type: 'turn.start', turnId: 't1', agentId: 'bot' });
    await vi.advanceTimersByTimeAsync(20);
    const before = renders;
    let expected = '';
    for (let ms = 0; ms < 1000; ms++) {
      for (const text of [`${2 * ms} `, `${2 * ms + 1} `]) {
        expected += text;
        void write({ type: 'delta', turnId: 't1', agentId: 'bot', text });
      }
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(20);
    await nextTick();
    expect(adapter.events('s1')).toHaveLength(2002);
    const streamed = renders - before;
    expect(streamed).toBeGreaterThan(10);
    expect(streamed).toBeLessThanOrEqual(Math.ceil(1020 / 16));
    expect(screen.getByTestId('turn-t1').textContent).toBe(`Count: ${expected} (streaming)`);
  });
});
