import type { ConnectionStatus, SessionSnapshot, SessionState, Turn, WriteOptions } from '@durable-session/core';
import { describe, expectTypeOf, it } from 'vitest';
import { useDurableSession, type DurableSessionActions, type UseDurableSessionResult } from './index';
import { adapter, plain, session, type ToolCall } from '../../../test/support/binding-types';

describe('useDurableSession types', () => {
  it('returns the snapshot plus the methods', () => {
    const chat = useDurableSession(plain);
    expectTypeOf(chat).toEqualTypeOf<UseDurableSessionResult<SessionSnapshot>>();
    expectTypeOf(chat.turns).toEqualTypeOf<readonly Turn[]>();
    expectTypeOf(chat.status).toEqualTypeOf<ConnectionStatus>();
    expectTypeOf(chat.send).toEqualTypeOf<(text: string, options?: WriteOptions & { turnId?: string }) => Promise<string>>();
    expectTypeOf(chat.cancel).toEqualTypeOf<(turnId?: string, options?: WriteOptions) => Promise<void>>();
    expectTypeOf(chat.steer).toEqualTypeOf<(text: string, turnId?: string, options?: WriteOptions) => Promise<string>>();
    expectTypeOf(chat.answer).toEqualTypeOf<(askId: string, choice: string) => Promise<void>>();
    // no application events: nothing can be emitted
    expectTypeOf(chat.emit).parameter(0).toEqualTypeOf<never>();
  });

  it('lets application events and custom state flow through', () => {
    const chat = useDurableSession(session);
    expectTypeOf(chat.state.tools).toEqualTypeOf<string[]>();
    expectTypeOf(chat.emit).parameter(0).toEqualTypeOf<ToolCall>();
    expectTypeOf(chat).toExtend<DurableSessionActions<ToolCall>>();
  });

  it('infers the event type from the options', () => {
    const chat = useDurableSession({ sessionId: 'chat-1', adapter });
    expectTypeOf(chat.emit).parameter(0).toEqualTypeOf<ToolCall>();
    expectTypeOf(chat.state).toEqualTypeOf<SessionState>();
    const custom = useDurableSession({ sessionId: 'chat-1', adapter, initialState: { turns: [], activeTurnId: undefined, tools: [] as string[] } });
    expectTypeOf(custom.state.tools).toEqualTypeOf<string[]>();
  });

  it('returns the selected fields plus the methods', () => {
    const chat = useDurableSession(session, (s) => ({ status: s.status, tools: s.state.tools }));
    expectTypeOf(chat.status).toEqualTypeOf<ConnectionStatus>();
    expectTypeOf(chat.tools).toEqualTypeOf<string[]>();
    expectTypeOf(chat.send).returns.toEqualTypeOf<Promise<string>>();
    // @ts-expect-error turns were not selected
    void chat.turns;
    // @ts-expect-error a selector returns an object of fields
    useDurableSession(session, (s) => s.status);
  });

  it('rejects what is neither options nor a session', () => {
    // @ts-expect-error an adapter is required
    useDurableSession({ sessionId: 'chat-1' });
  });
});
