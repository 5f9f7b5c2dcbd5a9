import { describe, expect, it, vi } from 'vitest';
import { DurableSessionError } from './errors';
import { createDurableSession } from './session';
import type { ReadBatch, SessionAdapter } from './types';
import type { SessionEvent } from './events';
import { toError } from './util';
import { waitFor } from './wait';

/** A second copy of the errors module, as an adapter built against core's other build (CJS) would hold. */
async function otherCopy(): Promise<typeof DurableSessionError> {
  vi.resetModules();
  const copy = await import('./errors');
  expect(copy.DurableSessionError).not.toBe(DurableSessionError);
  return copy.DurableSessionError;
}

describe('DurableSessionError.isInstance', () => {
  it('recognises errors of this copy and of another copy, and nothing else', async () => {
    const Other = await otherCopy();
    expect(DurableSessionError.isInstance(new DurableSessionError('gone', 'x'))).toBe(true);
    expect(DurableSessionError.isInstance(new Other('gone', 'x'))).toBe(true);
    expect(new Other('gone', 'x') instanceof DurableSessionError).toBe(false);
    for (const value of [new Error('x'), { code: 'gone' }, null, undefined, 'gone']) expect(DurableSessionError.isInstance(value)).toBe(false);
  });

  it('toError keeps the code of another copy instead of turning it into a network error', async () => {
    const Other = await otherCopy();
    const error = new Other('gone', 'stream lost', { status: 410 });
    expect(toError(error)).toBe(error);
    expect(toError(error).code).toBe('gone');
  });

  it('a `gone` thrown by an adapter of another copy rebuilds the session (recovered: false)', async () => {
    const Other = await otherCopy();
    const prompt: SessionEvent = { type: 'prompt', turnId: 't1', text: 'hi', clientId: 'c' };
    let reads = 0;
    const adapter: SessionAdapter<SessionEvent> = {
      async *read(_sessionId, offset, { signal }): AsyncGenerator<ReadBatch<SessionEvent>> {
        reads++;
        if (offset !== '-1') throw new Other('gone', 'stream lost', { status: 410 });
        yield { events: reads === 1 ? [prompt] : [], offset: reads === 1 ? '0001' : '0000', upToDate: true };
        if (reads === 1) throw new Other('network', 'cut');
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
      },
      append: async () => {},
    };
    const session = createDurableSession({ sessionId: 's', adapter, persistence: 'memory', tabs: false, reconnect: { initialDelayMs: 1 } });
    const rebuilt = await waitFor(session, (s) => !s.recovered && s.status === 'live', 2000);
    expect(rebuilt.turns).toEqual([]);
    await session.close();
  });
});
