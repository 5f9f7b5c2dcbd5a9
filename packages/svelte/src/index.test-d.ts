import type { SessionSnapshot, Turn, WriteOptions } from '@durable-session/core';
import { fromStore } from 'svelte/store';
import { describe, expectTypeOf, it } from 'vitest';
import { framed, useDurableSession, type DurableSessionRune } from './index';
import { adapter, plain, session, type MyState, type ToolCall } from '../../../test/support/binding-types';

describe('useDurableSession types', () => {
  it('has a readonly current snapshot and the methods', () => {
    const chat = useDurableSession(plain);
    expectTypeOf(chat).toEqualTypeOf<DurableSessionRune>();
    expectTypeOf(chat.current).toEqualTypeOf<SessionSnapshot>();
    expectTypeOf(chat.current.turns).toEqualTypeOf<readonly Turn[]>();
    expectTypeOf(chat.send).toEqualTypeOf<(text: string, options?: WriteOptions & { turnId?: string }) => Promise<string>>();
    expectTypeOf(chat.emit).parameter(0).toEqualTypeOf<never>();
    // @ts-expect-error current is readonly
    chat.current = chat.current; // oxlint-disable-line no-self-assign -- the assignment is the test
  });

  it('keeps the store contract', () => {
    expectTypeOf(fromStore(session).current).toEqualTypeOf<SessionSnapshot<MyState>>();
    expectTypeOf(fromStore(framed(session)).current).toEqualTypeOf<SessionSnapshot<MyState>>();
  });

  it('lets application events and custom state flow through', () => {
    const chat = useDurableSession(session);
    expectTypeOf(chat.current.state.tools).toEqualTypeOf<string[]>();
    expectTypeOf(chat.emit).parameter(0).toEqualTypeOf<ToolCall>();
    expectTypeOf(useDurableSession({ sessionId: 'chat-1', adapter }).emit).parameter(0).toEqualTypeOf<ToolCall>();
  });
});
