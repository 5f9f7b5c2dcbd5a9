/**
 * Property tests of the trust boundary (fast-check), in-process: random sequences of valid and
 * invalid appends, retries and reconnects never let a client write an agent event, never lose
 * or repeat an acknowledged event, and a reader resuming from any acknowledged offset gets
 * exactly what followed. And the client's fold of a log equals the fold of a prefix, persisted
 * (structured-cloned, as IndexedDB does) and resumed with the suffix.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialSessionState, reduceSession, type SessionEvent } from '@durable-session/core';
import { createSessionServer } from '@durable-session/server';

const id = fc.constantFrom('t1', 't2', 't3');
const text = fc.string({ maxLength: 8 });
const clientEvent = fc.oneof(
  fc.record({ type: fc.constant('prompt'), turnId: id, text, clientId: fc.constantFrom('a', 'b') }),
  fc.record({ type: fc.constant('cancel'), turnId: fc.oneof(id, fc.constant('*')), clientId: fc.constantFrom('a', 'b') }),
  fc.record({ type: fc.constant('steer'), turnId: id, text, clientId: fc.constant('a') }),
  fc.record({ type: fc.constantFrom('tool.call', 'note'), turnId: id, n: fc.integer() }),
);
const agentEvent = fc.oneof(
  fc.record({ type: fc.constant('turn.start'), turnId: id, agentId: fc.constant('demo') }),
  fc.record({ type: fc.constant('delta'), turnId: id, agentId: fc.constant('demo'), text }),
  fc.record({ type: fc.constant('turn.end'), turnId: id, agentId: fc.constant('demo'), reason: fc.constantFrom('complete', 'cancelled', 'error') }),
  fc.record({ type: fc.constant('fetch.chunk'), turnId: id, agentId: fc.constant('fetch'), text }),
);
const invalid = fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.constant([]), fc.record({ text }), fc.record({ type: fc.constant('prompt'), turnId: id }));

type Step =
  | { kind: 'valid'; events: unknown[]; producer: boolean; retry: boolean }
  | { kind: 'invalid'; events: unknown[] }
  | { kind: 'agent'; events: unknown[] }
  | { kind: 'reserved'; events: unknown[] }
  | { kind: 'resume'; at: number };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('valid' as const), events: fc.array(clientEvent, { minLength: 1, maxLength: 4 }), producer: fc.boolean(), retry: fc.boolean() }),
  fc.record({ kind: fc.constant('invalid' as const), events: fc.tuple(fc.array(clientEvent, { maxLength: 2 }), invalid).map(([ok, bad]) => [...ok, bad]) }),
  fc.record({ kind: fc.constant('agent' as const), events: fc.tuple(fc.array(clientEvent, { maxLength: 2 }), agentEvent).map(([ok, bad]) => [...ok, bad]) }),
  fc.record({ kind: fc.constant('reserved' as const), events: fc.array(clientEvent, { minLength: 1, maxLength: 2 }) }),
  fc.record({ kind: fc.constant('resume' as const), at: fc.nat() }),
);

describe('appends, retries and reconnects (property)', () => {
  it('never lose or repeat an acknowledged event, never store a client-written agent event', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        const server = createSessionServer({ onError: () => undefined });
        const call = (query: string, init?: RequestInit) => server.handler(new Request(`http://x/v1/stream/p${query}`, init));
        const post = (events: unknown[], headers: Record<string, string> = {}) =>
          call('', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(events) });
        try {
          await call('', { method: 'PUT', headers: { 'content-type': 'application/json' } });
          const acked: unknown[] = [];
          const offsets: Array<{ offset: string; count: number }> = [{ offset: '-1', count: 0 }];
          let seq = 0;
          for (const s of steps) {
            if (s.kind === 'resume') {
              const from = offsets[s.at % offsets.length] as { offset: string; count: number };
              const res = await call(`?offset=${from.offset}`);
              expect(await res.json()).toEqual(acked.slice(from.count, from.count + 1000));
              continue;
            }
            const producer = s.kind === 'reserved' ? { 'producer-id': '__turn/t1/demo', 'producer-epoch': '0', 'producer-seq': '0' } : undefined;
            const own = s.kind === 'valid' && s.producer ? { 'producer-id': 'client-a', 'producer-epoch': '0', 'producer-seq': String(seq) } : undefined;
            const res = await post(s.events, producer ?? own ?? {});
            if (s.kind === 'valid') {
              expect(res.status).toBeLessThan(300);
              acked.push(...s.events);
              offsets.push({ offset: res.headers.get('stream-next-offset') ?? '', count: acked.length });
              if (own !== undefined) {
                if (s.retry) expect((await post(s.events, own)).status).toBe(204); // a retry: deduplicated
                seq++;
              }
            } else {
              expect(res.status, s.kind).toBe(s.kind === 'invalid' ? 400 : 403);
            }
          }
          const all = (await (await call('?offset=-1')).json()) as Array<{ type: string }>;
          expect(all).toEqual(acked.slice(0, 1000));
          expect(all.some((e) => ['turn.start', 'delta', 'turn.end', 'fetch.chunk'].includes(e.type))).toBe(false);
        } finally {
          await server.close();
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('the fold (property)', () => {
  const sdkEvent = fc.oneof(clientEvent, agentEvent) as fc.Arbitrary<SessionEvent>;
  it('folding a log equals folding a prefix, persisting it, and folding the suffix onto it', () => {
    fc.assert(
      fc.property(fc.array(sdkEvent, { maxLength: 40 }), fc.nat(), (log, cut) => {
        const at = log.length === 0 ? 0 : cut % (log.length + 1);
        const whole = log.reduce(reduceSession, initialSessionState);
        const persisted = structuredClone(log.slice(0, at).reduce(reduceSession, initialSessionState));
        const resumed = log.slice(at).reduce(reduceSession, persisted);
        expect(resumed).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
