// @vitest-environment node
import { createDurableSession, memoryAdapter, type AppEvent } from '@durable-session/core';
import { describe, expect, it, vi } from 'vitest';
import { createSSRApp, defineComponent, h, type PropType } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { useDurableSession, type DurableSessionSource } from './index';

const Chat = defineComponent({
  props: { source: { type: Object as PropType<DurableSessionSource<AppEvent>>, required: true } },
  setup(props) {
    const { status, turns } = useDurableSession(props.source);
    return () => h('main', [h('p', status.value), ...turns.value.map((t) => h('p', { key: t.turnId }, t.text)), h('span', `${turns.value.length} turns`)]);
  },
});

describe('useDurableSession under renderToString', () => {
  it('renders the initial state without touching the network or IndexedDB', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const append = vi.spyOn(adapter, 'append');
    const idb = vi.fn();
    vi.stubGlobal('indexedDB', { open: idb });
    try {
      const html = await renderToString(createSSRApp(Chat, { source: { sessionId: 's1', adapter } }));
      expect(html).toBe('<main><p>connecting</p><span>0 turns</span></main>');
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
    const html = await renderToString(createSSRApp(Chat, { source: session }));
    expect(html).toBe('<main><p>live</p><p>Hello</p><span>1 turns</span></main>');
    expect(session.get().status).toBe('live');
    await session.close();
  });
});
