/**
 * The one contract every framework binding (React, Vue, Svelte) keeps, run from each binding's
 * test file with that framework's rendering: `runBindingContract('React', { render, click, ... })`.
 * Only framework-specific cases stay in the binding's own tests.
 */
import { createDurableSession, memoryAdapter, type AppEvent, type DurableSessionSource } from '@durable-session/core';
import { describe, expect, it, vi } from 'vitest';
import { agent, bindingOptions, CONTROL_EVENTS, fakeAnimationFrames, stream2000Deltas, writeHelloTurn } from './bindings';

/** How a binding's test renders its chat fixture: a `status` line, one `turn-<id>` item per turn, and send/steer/cancel buttons. */
export interface BindingHarness {
  /**
   * Render the chat fixture over `source`. `onRender` is called on each render (or update);
   * `strict` renders in the framework's strictest mode (React: `StrictMode`).
   */
  render(source: DurableSessionSource<AppEvent>, options?: { onRender?: () => void; strict?: boolean }): { unmount(): void };
  /** Click the button with this text. */
  click(text: string): unknown;
  /** The framework's `waitFor`. */
  waitFor(check: () => void): Promise<unknown>;
  /** Find an element by `data-testid`. */
  getByTestId(id: string): HTMLElement;
  /** Run work that updates the UI (React: `act`). */
  act?(work: () => Promise<unknown>): Promise<unknown>;
  /** Apply pending UI updates (Vue: `nextTick`, Svelte: `flushSync`). */
  settle?(): unknown;
  /** Whether an owned session is closed synchronously on unmount (else within a tick). */
  closesAtOnce?: boolean;
}

/**
 * Run the binding contract.
 * @example
 * runBindingContract('Vue', { render: (source) => render(Chat, { props: { source } }), click, waitFor, getByTestId: screen.getByTestId });
 */
export function runBindingContract(name: string, harness: BindingHarness): void {
  const { render, click, waitFor, getByTestId } = harness;
  const act = harness.act ?? ((work: () => Promise<unknown>) => work());
  const text = (id: string): string | null => getByTestId(id).textContent;

  describe(`${name} binding contract`, () => {
    it('renders the transcript from a stream of events', async () => {
      const adapter = memoryAdapter();
      const write = agent(adapter, 's1');
      render(bindingOptions(adapter));
      await waitFor(() => expect(text('status')).toBe('live'));
      await writeHelloTurn(write);
      await waitFor(() => expect(text('turn-t1')).toBe('Hi: Hello there (complete)'));
    });

    it('calls send, steer and cancel through to the session', async () => {
      const adapter = memoryAdapter();
      render(bindingOptions(adapter));
      await click('send');
      await waitFor(() => expect(text('turn-t1')).toBe('Hello:  (streaming)'));
      await click('steer');
      await click('cancel');
      await waitFor(() => expect(text('turn-t1')).toBe('Hello:  (cancelled)'));
      expect(adapter.events('s1')).toEqual(CONTROL_EVENTS);
    });

    it('opens one connection while rendered, writes one prompt and closes the session after unmount', async () => {
      const adapter = memoryAdapter();
      const read = vi.spyOn(adapter, 'read');
      const { unmount } = render(bindingOptions(adapter), { strict: true });
      await waitFor(() => expect(text('status')).toBe('live'));
      await click('send');
      await waitFor(() => expect(getByTestId('turn-t1')).toBeTruthy());
      expect(read).toHaveBeenCalledTimes(1);
      expect(adapter.events('s1').filter((event) => event.type === 'prompt')).toHaveLength(1);
      const signal = read.mock.calls[0]![2].signal;
      expect(signal.aborted).toBe(false);
      unmount();
      if (harness.closesAtOnce) expect(signal.aborted).toBe(true);
      else await waitFor(() => expect(signal.aborted).toBe(true));
      expect(read).toHaveBeenCalledTimes(1);
    });

    it('never closes a session it was given', async () => {
      const session = createDurableSession(bindingOptions(memoryAdapter()));
      const { unmount } = render(session, { strict: true });
      await waitFor(() => expect(text('status')).toBe('live'));
      unmount();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(session.get().status).toBe('live');
      await session.close();
    });

    it('updates at most once per animation frame at 2,000 deltas a second, with no delta lost', async () => {
      vi.useFakeTimers();
      fakeAnimationFrames();
      const adapter = memoryAdapter();
      const write = agent(adapter, 's1');
      let renders = 0;
      render(bindingOptions(adapter), { onRender: () => renders++ });
      await act(() => vi.advanceTimersByTimeAsync(20));
      expect(text('status')).toBe('live');
      await act(async () => {
        void write({ type: 'prompt', turnId: 't1', text: 'Count', clientId: 'x' });
        void write({ type: 'turn.start', turnId: 't1', agentId: 'bot' });
        await vi.advanceTimersByTimeAsync(20);
      });
      const before = renders;
      // 2,000 deltas over one second of (fake) time: two per millisecond.
      const expected = await stream2000Deltas(write, (tick) => act(tick));
      await act(() => vi.advanceTimersByTimeAsync(20));
      await harness.settle?.();
      expect(adapter.events('s1')).toHaveLength(2002);
      const streamed = renders - before;
      expect(streamed).toBeGreaterThan(10); // it did stream
      expect(streamed).toBeLessThanOrEqual(Math.ceil(1020 / 16)); // one per 16 ms frame over the 1,020 ms streamed (2,000 without batching)
      expect(text('turn-t1')).toBe(`Count: ${expected} (streaming)`);
    });
  });
}
