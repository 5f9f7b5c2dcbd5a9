import { createDurableSession, memoryAdapter, type AppEvent } from '@durable-session/core';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StrictMode, useEffect } from 'react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { agent, bindingOptions, CONTROL_EVENTS, fakeAnimationFrames, stream2000Deltas, writeHelloTurn } from '../../../test/support/bindings';
import { useDurableSession, type DurableSessionSource } from './index';

type Source = DurableSessionSource<AppEvent>;

function Chat({ source, onRender }: { source: Source; onRender?: () => void }) {
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

afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('useDurableSession (React)', () => {
  it('renders the transcript from a stream of events', async () => {
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    render(<Chat source={bindingOptions(adapter)} />);
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    await writeHelloTurn(write);
    await waitFor(() => expect(screen.getByTestId('turn-t1').textContent).toBe('Hi: Hello there (complete)'));
  });

  it('calls send, steer and cancel through to the session', async () => {
    const adapter = memoryAdapter();
    render(<Chat source={bindingOptions(adapter)} />);
    fireEvent.click(screen.getByText('send'));
    await waitFor(() => expect(screen.getByTestId('turn-t1').textContent).toBe('Hello:  (streaming)'));
    fireEvent.click(screen.getByText('steer'));
    fireEvent.click(screen.getByText('cancel'));
    await waitFor(() => expect(screen.getByTestId('turn-t1').textContent).toBe('Hello:  (cancelled)'));
    expect(adapter.events('s1')).toEqual(CONTROL_EVENTS);
  });

  it('under StrictMode opens one connection, writes one prompt and closes the session after unmount', async () => {
    const adapter = memoryAdapter();
    const read = vi.spyOn(adapter, 'read');
    const { unmount } = render(
      <StrictMode>
        <Chat source={bindingOptions(adapter)} />
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    fireEvent.click(screen.getByText('send'));
    await waitFor(() => expect(screen.getByTestId('turn-t1')).toBeTruthy());
    expect(read).toHaveBeenCalledTimes(1);
    expect(adapter.events('s1').filter((e) => e.type === 'prompt')).toHaveLength(1);
    const signal = read.mock.calls[0]![2].signal;
    expect(signal.aborted).toBe(false);
    unmount();
    await waitFor(() => expect(signal.aborted).toBe(true));
    expect(read).toHaveBeenCalledTimes(1);
  });

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

  it('never closes a session it was given', async () => {
    const adapter = memoryAdapter();
    const session = createDurableSession(bindingOptions(adapter));
    const { unmount } = render(
      <StrictMode>
        <Chat source={session} />
      </StrictMode>,
    );
    await waitFor(() => expect(screen.getByTestId('status').textContent).toBe('live'));
    unmount();
    await new Promise((r) => setTimeout(r, 20));
    expect(session.get().status).toBe('live');
    await session.close();
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

  it('commits at most once per animation frame at 2,000 deltas a second, with no delta lost', async () => {
    vi.useFakeTimers();
    fakeAnimationFrames();
    const adapter = memoryAdapter();
    const write = agent(adapter, 's1');
    let renders = 0;
    render(<Chat source={bindingOptions(adapter)} onRender={() => renders++} />);
    await act(() => vi.advanceTimersByTimeAsync(20));
    expect(screen.getByTestId('status').textContent).toBe('live');
    await act(async () => {
      void write({ type: 'prompt', turnId: 't1', text: 'Count', clientId: 'x' });
      void write({ type: 'turn.start', turnId: 't1', agentId: 'bot' });
      await vi.advanceTimersByTimeAsync(20);
    });
    const before = renders;
    // 2,000 deltas over one second of (fake) time: two per millisecond.
    const expected = await stream2000Deltas(write, (tick) => act(tick));
    await act(() => vi.advanceTimersByTimeAsync(20));
    expect(adapter.events('s1')).toHaveLength(2002);
    const streamed = renders - before;
    expect(streamed).toBeGreaterThan(10); // it did stream
    expect(streamed).toBeLessThanOrEqual(Math.ceil(1020 / 16)); // one per 16 ms frame over the 1,020 ms streamed (2,000 without batching)
    expect(screen.getByTestId('turn-t1').textContent).toBe(`Count: ${expected} (streaming)`);
  });

  const dist = join(dirname(fileURLToPath(import.meta.url)), '../dist');
  it.skipIf(!existsSync(join(dist, 'index.js')))("keeps 'use client' at the top of the built files (after npm run build)", () => {
    for (const file of ['index.js', 'index.cjs']) {
      const code = readFileSync(join(dist, file), 'utf8');
      expect(code.split('\n').slice(0, 3).join('\n')).toMatch(/^(["']use strict["'];\n)?["']use client["'];/);
    }
  });
});
