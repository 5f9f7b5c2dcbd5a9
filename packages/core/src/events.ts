/**
 * The wire model: every session event is a JSON object with a `type`.
 * The store adds the offset; the SDK defines these six types and lets the
 * application add its own (see {@link AppEvent}).
 */

/**
 * Why a turn ended.
 * @example
 * const reason: TurnEndReason = 'cancelled';
 */
export type TurnEndReason = 'complete' | 'cancelled' | 'error';

/**
 * A user's prompt, written by a client. Opens a turn.
 * @example
 * const e: PromptEvent = { type: 'prompt', turnId: 't1', text: 'Hi', clientId: 'c1' };
 */
export interface PromptEvent {
  type: 'prompt';
  turnId: string;
  text: string;
  clientId: string;
}

/**
 * An agent starts writing into a turn.
 * @example
 * const e: TurnStartEvent = { type: 'turn.start', turnId: 't1', agentId: 'writer' };
 */
export interface TurnStartEvent {
  type: 'turn.start';
  turnId: string;
  agentId: string;
}

/**
 * One or more tokens an agent wrote into a turn.
 * @example
 * const e: DeltaEvent = { type: 'delta', turnId: 't1', agentId: 'writer', text: 'Hello' };
 */
export interface DeltaEvent {
  type: 'delta';
  turnId: string;
  agentId: string;
  text: string;
}

/**
 * An agent finished its part of a turn.
 * @example
 * const e: TurnEndEvent = { type: 'turn.end', turnId: 't1', agentId: 'writer', reason: 'complete' };
 */
export interface TurnEndEvent {
  type: 'turn.end';
  turnId: string;
  agentId: string;
  reason: TurnEndReason;
  error?: string;
}

/**
 * A client asks the agents of a turn (or of every turn, with `"*"`) to stop.
 * It is an explicit event: a closed connection never cancels anything.
 * @example
 * const e: CancelEvent = { type: 'cancel', turnId: '*', clientId: 'c1' };
 */
export interface CancelEvent {
  type: 'cancel';
  turnId: string;
  clientId: string;
}

/**
 * A client steers the running agent of a turn with extra instructions.
 * @example
 * const e: SteerEvent = { type: 'steer', turnId: 't1', text: 'shorter please', clientId: 'c1' };
 */
export interface SteerEvent {
  type: 'steer';
  turnId: string;
  text: string;
  clientId: string;
}

/**
 * Any of the SDK's own events.
 * @example
 * function isDelta(e: SessionEvent): e is DeltaEvent { return e.type === 'delta'; }
 */
export type SessionEvent = PromptEvent | TurnStartEvent | DeltaEvent | TurnEndEvent | CancelEvent | SteerEvent;

/**
 * The shape an application's own event types must have: a JSON object with a
 * string `type` that is not one of the SDK's.
 * @example
 * interface ToolCall extends AppEvent { type: 'tool.call'; turnId: string; name: string }
 */
export interface AppEvent {
  type: string;
  [field: string]: unknown;
}

/**
 * The SDK's event type names.
 * @example
 * const isSdkEvent = (SESSION_EVENT_TYPES as readonly string[]).includes(event.type);
 */
export const SESSION_EVENT_TYPES = ['prompt', 'turn.start', 'delta', 'turn.end', 'cancel', 'steer'] as const;
