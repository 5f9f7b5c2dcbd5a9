// @vitest-environment node
import { memoryAdapter, type AppEvent } from '@durable-session/core';
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { liveHelloSession, probeServerRender } from '../../../test/support/bindings';
import { useDurableSession, type DurableSessionSource } from './index';

function Chat({ source }: { source: DurableSessionSource<AppEvent> }) {
  const chat = useDurableSession(source);
  return (
    <main>
      <p>{chat.status}</p>
      {chat.turns.map((t) => (
        <p key={t.turnId}>{t.text}</p>
      ))}
      <span>{chat.turns.length} turns</span>
    </main>
  );
}

describe('useDurableSession under renderToString', () => {
  it('renders the initial state without touching the network or IndexedDB', async () => {
    const adapter = memoryAdapter();
    const probe = probeServerRender(adapter);
    const html = await probe.during(() => renderToString(<Chat source={{ sessionId: 's1', adapter }} />));
    expect(html).toBe('<main><p>connecting</p><span>0<!-- --> turns</span></main>');
    expect(probe.counts()).toEqual({ reads: 0, appends: 0, indexedDB: 0 });
  });

  it('renders the current snapshot of a session it was given', async () => {
    const session = await liveHelloSession();
    expect(renderToString(<Chat source={session} />)).toBe('<main><p>live</p><p>Hello</p><span>1<!-- --> turns</span></main>');
    await session.close();
  });
});
