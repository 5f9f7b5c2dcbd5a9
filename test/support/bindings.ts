/**
 * What the React, Vue and Svelte binding tests share: the same session fixture, the same
 * scripted events and the same probes. Each binding's test keeps its own rendering and assertions.
 */
import { afterEach, expect, vi } from 'vitest';
import {
  createDurableSession,
  memoryAdapter,
  type AppEvent,
  type DurableSession,
  type DurableSessionOptions,
  type MemoryAdapter,
  type SessionEvent,
} from '@durable-session/core';

/** Options for a binding-owned session over `adapter`: memory persistence, no tabs, client `c1`. */
export const bindingOptions = (adapter: MemoryAdapter, sessionId = 's1'): DurableSessionOptions<AppEvent> => ({
  sessionId,
  adapter,
  persistence: 'memory',
  tabs: false,
  clientId: 'c1',
});

/** An agent writing into a session of a memory adapter. */
export function agent(adapter: MemoryAdapter, sessionId: string): (event: SessionEvent) => Promise<void> {
  let seq = 0;
  return (event) => adapter.append(sessionId, event, { producerId: 'agent', epoch: 0, seq: seq++ });
}

/** Writes turn `t1`: prompt "Hi" from another tab, then "Hello there" in three deltas, complete. */
export async function writeHelloTurn(write: (event: SessionEvent) => Promise<void>): Promise<void> {
  await write({ type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'other-tab' });
  await write({ type: 'turn.start', turnId: 't1', agentId: 'bot' });
  for (const text of ['Hel', 'lo ', 'there']) await write({ type: 'delta', turnId: 't1', agentId: 'bot', text });
  await write({ type: 'turn.end', turnId: 't1', agentId: 'bot', reason: 'complete' });
}

/** The log after the test components' send ("Hello", turn t1), steer ("shorter", with its random id) and cancel buttons. */
export const CONTROL_EVENTS: SessionEvent[] = [
  { type: 'prompt', turnId: 't1', text: 'Hello', clientId: 'c1' },
  { type: 'steer', turnId: 't1', text: 'shorter', clientId: 'c1', steerId: expect.any(String) as string },
  { type: 'cancel', turnId: 't1', clientId: 'c1' },
];

/** Make `requestAnimationFrame` a 16 ms fake timer (call after `vi.useFakeTimers()`). */
export function fakeAnimationFrames(): void {
  vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => setTimeout(() => cb(performance.now()), 16));
  vi.stubGlobal('cancelAnimationFrame', (id: number) => clearTimeout(id));
}

/**
 * 2,000 deltas over one second of fake time (two per millisecond) into turn `t1`, which must be
 * started. `step` wraps each millisecond (React passes `act`). Returns the text they add up to.
 */
export async function stream2000Deltas(
  write: (event: SessionEvent) => Promise<void>,
  step: (tick: () => Promise<void>) => Promise<unknown> = (tick) => tick(),
): Promise<string> {
  let expected = '';
  for (let ms = 0; ms < 1000; ms++) {
    await step(async () => {
      for (const text of [`${2 * ms} `, `${2 * ms + 1} `]) {
        expected += text;
        void write({ type: 'delta', turnId: 't1', agentId: 'bot', text });
      }
      await vi.advanceTimersByTimeAsync(1);
    });
  }
  return expected;
}

/**
 * Watch what server rendering must not touch: the adapter's `read` and `append`, and IndexedDB
 * (stubbed while `during` runs).
 */
export function probeServerRender(adapter: MemoryAdapter): {
  during<T>(render: () => T | Promise<T>): Promise<T>;
  counts(): { reads: number; appends: number; indexedDB: number };
} {
  const read = vi.spyOn(adapter, 'read');
  const append = vi.spyOn(adapter, 'append');
  const open = vi.fn();
  return {
    async during(render) {
      vi.stubGlobal('indexedDB', { open });
      try {
        return await render();
      } finally {
        vi.unstubAllGlobals();
      }
    },
    counts: () => ({ reads: read.mock.calls.length, appends: append.mock.calls.length, indexedDB: open.mock.calls.length }),
  };
}

/** A live session (memory persistence) whose log holds turn `t1`: prompt "Hi", then "Hello" streaming. */
export async function liveHelloSession(): Promise<DurableSession<AppEvent>> {
  const adapter = memoryAdapter();
  await adapter.append('s1', { type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'c' }, { producerId: 'p', epoch: 0, seq: 0 });
  await adapter.append('s1', { type: 'delta', turnId: 't1', agentId: 'a', text: 'Hello' }, { producerId: 'p', epoch: 0, seq: 1 });
  const session = createDurableSession<AppEvent>({ sessionId: 's1', adapter, persistence: 'memory' });
  await vi.waitFor(() => expect(session.get().status).toBe('live'));
  return session;
}

/** After each test of a binding's file: unmount what it rendered (`cleanup`), real timers, real globals. */
export function resetAfterEach(cleanup: () => void): void {
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });
}
