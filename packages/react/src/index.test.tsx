import { createDurableSession, memoryAdapter, type AppEvent } from '@durable-session/core';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrictMode, useEffect } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { runBindingContract } from '../../../test/support/binding-contract';
import { agent, bindingOptions, resetAfterEach } from '../../../test/support/bindings';
import { useDurableSession, type DurableSessionSource } from './index';

type Source = DurableSessionSource<AppEvent>;

function Chat({ source, onRender }: { source: Source; onRender?: (() => void) | undefined }) {
  const chat = useDurableSession(source);
  onRender?.();
  return (
    <div>
      <p data-testid="status">{chat.status}</p>
      <ul>
        {chat.turns.map((t) => (
          <li key={t.turnId} data-testid={`turn-${t.turnId}`}>
            {t.prompt}: {t.text} ({t.status})
          </li>
        ))}
      </ul>
      <button onClick={() => void chat.send('Hello', { turnId: 't1' })}>send</button>
      <button onClick={() => void chat.steer('shorter', 't1')}>steer</button>
      <button onClick={() => void chat.cancel('t1')}>cancel</button>
    </div>
  );
}

resetAfterEach(cleanup);

describe('useDurableSession (React)', () => {
  it('serves a method called before its effects ran (a child effect) from the same single session', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    function AutoSend({ send }: { send: (text: string) => Promise<string> }) {
      useEffect(() => void send('From a child effect'), [send]);
      return null;
    }
    function Page() {
      const chat = useDurableSession(bindingOptions(adapter));
      return (
        <>
          <AutoSend send={chat.send} />
          <p data-testid="count">{chat.turns.length}</p>
        </>
      );
    }
    render(<Page />);
    await waitFor(() => expect(screen.getByTestId('count').textContent).toBe('1'));
    expect(read).toHaveBeenCalledTimes(1);
    expect(adapter.events('s1').filter((e) => e.type === 'prompt')).toHaveLength(1);
  });

  it('hydrates server HTML without a mismatch, then connects', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const source = bindingOptions(adapter);
    const container = document.createElement('div');
    container.innerHTML = renderToString(<Chat source={source} />);
    expect(read).not.toHaveBeenCalled();
    document.body.append(container);
    const onRecoverableError = vi.fn();
    const root = await act(async () => hydrateRoot(container, <Chat source={source} />, { onRecoverableError }));
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    expect(onRecoverableError).not.toHaveBeenCalled();
    expect(read).toHaveBeenCalledTimes(1);
    act(() => root.unmount());
    container.remove();
  });

  it('switches sessions when the sessionId changes, closing the old one', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const { rerender } = render(<Chat source={bindingOptions(adapter, 'a')} />);
    await waitFor(() => expect(read).toHaveBeenCalledTimes(1));
    rerender(<Chat source={bindingOptions(adapter, 'a')} />);
    rerender(<Chat source={bindingOptions(adapter, 'b')} />);
    await waitFor(() => expect(read).toHaveBeenCalledTimes(2));
    expect(read.mock.calls.map((c) => c[0])).toEqual(['a', 'b']);
    await waitFor(() => expect(read.mock.calls[0]![2].signal.aborted).toBe(true));
    expect(read.mock.calls[1]![2].signal.aborted).toBe(false);
  });

  it('re-renders only when the selected fields change', async () => {
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    const session = createDurableSession(bindingOptions(adapter));
    let renders = 0;
    function Badge() {
      const { status } = useDurableSession(session, (s) => ({ status: s.status }));
      renders++;
      return <p data-testid="badge">{status}</p>;
    }
    render(<Badge />);
    await waitFor(() => expect(screen.getByTestId('badge').textContent).toBe('live'));
    const before = renders;
    await write({ type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'x' });
    for (let i = 0; i < 20; i++) await write({ type: 'delta', turnId: 't1', agentId: 'bot', text: `${i} ` });
    await waitFor(() => expect(session.get().turns[0]?.text).toContain('19'));
    await new Promise((r) => setTimeout(r, 40));
    expect(renders).toBe(before);
    await session.close();
  });

  const dist = join(dirname(fileURLToPath(import.meta.url)), '../dist');
  it.skipIf(!existsSync(join(dist, 'index.js')))("keeps 'use client' at the top of the built files (after npm run build)", () => {
    for (const file of ['index.js', 'index.cjs']) {
      const code = readFileSync(join(dist, file), 'utf8');
      expect(code.split('\n').slice(0, 3).join('\n')).toMatch(/^(["']use strict["'];\n)?["']use client["'];/);
    }
  });
});

// Last, as before the contract suite existed: renders later in the same file fail after its fake-timer case.
runBindingContract('React', {
  render: (source, { onRender, strict } = {}) => render(strict ? <StrictMode><Chat source={source} onRender={onRender} /></StrictMode> : <Chat source={source} onRender={onRender} />),
  click: (text) => fireEvent.click(screen.getByText(text)),
  waitFor,
  getByTestId: (id) => screen.getByTestId(id),
  act: (work) => act(work),
});
