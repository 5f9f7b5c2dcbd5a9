import type { ConnectionStatus, DurableSessionError, SessionSnapshot, Turn, WriteOptions } from '@durable-session/core';
import { describe, expectTypeOf, it } from 'vitest';
import { ref, type ComputedRef } from 'vue';
import { useDurableSession, type UseDurableSessionReturn } from './index';
import { adapter, plain, session, type ToolCall } from '../../../test/support/binding-types';

describe('useDurableSession types', () => {
  it('returns readonly refs and the methods', () => {
    const chat = useDurableSession(plain);
    expectTypeOf(chat).toEqualTypeOf<UseDurableSessionReturn>();
    expectTypeOf(chat.snapshot).toEqualTypeOf<ComputedRef<SessionSnapshot>>();
    expectTypeOf(chat.turns.value).toEqualTypeOf<readonly Turn[]>();
    expectTypeOf(chat.status.value).toEqualTypeOf<ConnectionStatus>();
    expectTypeOf(chat.activeTurnId.value).toEqualTypeOf<string | undefined>();
    expectTypeOf(chat.error.value).toEqualTypeOf<DurableSessionError | undefined>();
    expectTypeOf(chat.send).toEqualTypeOf<(text: string, options?: WriteOptions & { turnId?: string }) => Promise<string>>();
    expectTypeOf(chat.emit).parameter(0).toEqualTypeOf<never>();
    // @ts-expect-error refs are readonly
    chat.status.value = 'live';
  });

  it('lets application events and custom state flow through', () => {
    const chat = useDurableSession(session);
    expectTypeOf(chat.state.value.tools).toEqualTypeOf<string[]>();
    expectTypeOf(chat.emit).parameter(0).toEqualTypeOf<ToolCall>();
    expectTypeOf(useDurableSession({ sessionId: 'chat-1', adapter }).emit).parameter(0).toEqualTypeOf<ToolCall>();
  });

  it('accepts a ref or a getter', () => {
    const id = ref('chat-1');
    const chat = useDurableSession(() => ({ sessionId: id.value, adapter }));
    expectTypeOf(chat.emit).parameter(0).toEqualTypeOf<ToolCall>();
    const fromRef = useDurableSession(ref(session));
    expectTypeOf(fromRef.state.value.tools).toEqualTypeOf<string[]>();
  });
});
