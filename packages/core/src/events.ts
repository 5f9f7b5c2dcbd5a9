/**
 * The wire model: every session event is a JSON object with a `type`.
 * The store adds the offset; the SDK defines these types and lets the
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
  /** Names the steer so agents can acknowledge it (`session.steer` always sets one). */
  steerId?: string;
}

/**
 * Where a steer is: `sent` (in the log), `received` (the running agent took it),
 * `applied` (the agent says it acted on it) or `rejected` (the turn had ended, or the agent
 * does not take steers). States only move forward.
 * @example
 * const label = steer.state === 'applied' ? '✓ applied' : steer.state;
 */
export type SteerState = 'sent' | 'received' | 'applied' | 'rejected';

/**
 * An agent (or its host) acknowledges a steer.
 * @example
 * const e: SteerAckEvent = { type: 'steer.ack', turnId: 't1', agentId: 'writer', steerId: 's1', state: 'applied' };
 */
export interface SteerAckEvent {
  type: 'steer.ack';
  turnId: string;
  agentId: string;
  steerId: string;
  state: Exclude<SteerState, 'sent'>;
  reason?: string;
}

/**
 * An agent asks the people watching a question (an approval) and waits for one answer.
 * @example
 * const e: AskEvent = { type: 'ask', turnId: 't1', agentId: 'writer', askId: 'q1', question: 'Send the email?', options: ['yes', 'no'] };
 */
export interface AskEvent {
  type: 'ask';
  turnId: string;
  agentId: string;
  askId: string;
  question: string;
  /** The choices (1 to 20 non-empty strings, no repeats). */
  options: string[];
  /** When the agent stops waiting (ms since the epoch), if it set a timeout. */
  expiresAt?: number;
}

/**
 * A client answers an agent's question. The server stores at most one answer per question.
 * @example
 * const e: AnswerEvent = { type: 'answer', turnId: 't1', askId: 'q1', choice: 'yes', clientId: 'c1', answerId: 'a1' };
 */
export interface AnswerEvent {
  type: 'answer';
  turnId: string;
  askId: string;
  choice: string;
  clientId: string;
  /** Names this answer, so a retried append is recognised as the same answer. */
  answerId: string;
}

/**
 * A question closed without an answer: its timeout passed, or its turn was cancelled.
 * @example
 * const e: AskClosedEvent = { type: 'ask.closed', turnId: 't1', agentId: 'writer', askId: 'q1', reason: 'timeout' };
 */
export interface AskClosedEvent {
  type: 'ask.closed';
  turnId: string;
  agentId: string;
  askId: string;
  reason: 'timeout' | 'cancelled';
}

/**
 * Any of the SDK's own events.
 * @example
 * function isDelta(e: SessionEvent): e is DeltaEvent { return e.type === 'delta'; }
 */
export type SessionEvent =
  | PromptEvent
  | TurnStartEvent
  | DeltaEvent
  | TurnEndEvent
  | CancelEvent
  | SteerEvent
  | SteerAckEvent
  | AskEvent
  | AnswerEvent
  | AskClosedEvent;

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
export const SESSION_EVENT_TYPES = [
  'prompt',
  'turn.start',
  'delta',
  'turn.end',
  'cancel',
  'steer',
  'steer.ack',
  'ask',
  'answer',
  'ask.closed',
] as const;
