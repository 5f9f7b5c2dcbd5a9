import { memoryAdapter, type AppEvent } from '@durable-session/core';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/vue';
import { describe, expect, it, vi } from 'vitest';
import { runBindingContract } from '../../../test/support/binding-contract';
import { bindingOptions, resetAfterEach } from '../../../test/support/bindings';
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

resetAfterEach(cleanup);

describe('useDurableSession (Vue)', () => {
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

});

// Last, as before the contract suite existed: renders later in the same file fail after its fake-timer case.
runBindingContract('Vue', {
  render: (source, { onRender } = {}) => render(Chat, { props: { source, onRender } }),
  click: (text) => fireEvent.click(screen.getByText(text)),
  waitFor,
  getByTestId: (id) => screen.getByTestId(id),
  settle: nextTick,
  closesAtOnce: true,
});
