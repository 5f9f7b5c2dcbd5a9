// @vitest-environment node
import { memoryAdapter, type AppEvent } from '@durable-session/core';
import { describe, expect, it } from 'vitest';
import { liveHelloSession, probeServerRender } from '../../../test/support/bindings';
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
    const probe = probeServerRender(adapter);
    const html = await probe.during(() => renderToString(createSSRApp(Chat, { source: { sessionId: 's1', adapter } })));
    expect(html).toBe('<main><p>connecting</p><span>0 turns</span></main>');
    expect(probe.counts()).toEqual({ reads: 0, appends: 0, indexedDB: 0 });
  });

  it('renders the current snapshot of a session it was given', async () => {
    const session = await liveHelloSession();
    const html = await renderToString(createSSRApp(Chat, { source: session }));
    expect(html).toBe('<main><p>live</p><p>Hello</p><span>1 turns</span></main>');
    expect(session.get().status).toBe('live');
    await session.close();
  });
});
