import { createDurableSession, memoryAdapter, type AppEvent } from '@durable-session/core';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/vue';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { agent, bindingOptions, CONTROL_EVENTS, fakeAnimationFrames, stream2000Deltas, writeHelloTurn } from '../../../test/support/bindings';
import { createSSRApp, defineComponent, effectScope, h, nextTick, ref, type PropType } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { useDurableSession, type DurableSessionSource } from './index';

type Source = DurableSessionSource<AppEvent>;

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

  it('opens one connection on mount and closes the session on unmount', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const { unmount } = render(Chat, { props: { source: bindingOptions(adapter) } });
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
    const source = bindingOptions(adapter);
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
    const session = createDurableSession(bindingOptions(memoryAdapter()));
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
    render(Chat, { props: { source: () => bindingOptions(adapter, id.value) } });
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
    const chat = scope.run(() => useDurableSession(bindingOptions(adapter)))!;
    await vi.waitFor(() => expect(chat.status.value).toBe('live'));
    await chat.send('Hi', { turnId: 't1' });
    await vi.waitFor(() => expect(chat.turns.value.map((t) => t.prompt)).toEqual(['Hi']));
    scope.stop();
    expect(read).toHaveBeenCalledTimes(1);
    expect(read.mock.calls[0]![2].signal.aborted).toBe(true);
  });

  it('updates at most once per animation frame at 2,000 deltas a second, with no delta lost', async () => {
    vi.useFakeTimers();
    fakeAnimationFrames();
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    let renders = 0;
    render(Chat, { props: { source: bindingOptions(adapter), onRender: () => renders++ } });
    await vi.advanceTimersByTimeAsync(20);
    expect(screen.getByTestId('status').textContent).toBe('live');
    void write({ type: 'prompt', turnId: 't1', text: 'Count', clientId: 'x' });
    void write({ type: 'turn.start', turnId: 't1', agentId: 'bot' });
    await vi.advanceTimersByTimeAsync(20);
    const before = renders;
    // 2,000 deltas over one second of (fake) time: two per millisecond.
    const expected = await stream2000Deltas(write);
    await vi.advanceTimersByTimeAsync(20);
    await nextTick();
    expect(adapter.events('s1')).toHaveLength(2002);
    const streamed = renders - before;
    expect(streamed).toBeGreaterThan(10);
    expect(streamed).toBeLessThanOrEqual(Math.ceil(1020 / 16));
    expect(screen.getByTestId('turn-t1').textContent).toBe(`Count: ${expected} (streaming)`);
  });
});
