/**
 * What the React, Vue and Svelte type tests (`index.test-d.ts`) share: an application event, a
 * state with a custom field, and sessions and an adapter typed with them (declared, never run).
 */
import type { AnySessionEvent, AppEvent, DurableSession, SessionAdapter, SessionState } from '@durable-session/core';

/** An application event. */
export interface ToolCall extends AppEvent {
  type: 'tool.call';
  name: string;
}
/** A state with a custom field. */
export interface MyState extends SessionState {
  tools: string[];
}
/** A session of application events and custom state. */
export declare const session: DurableSession<ToolCall, MyState>;
/** A session of the SDK's own events. */
export declare const plain: DurableSession;
/** An adapter for sessions with application events. */
export declare const adapter: SessionAdapter<AnySessionEvent<ToolCall>>;
