import type { SessionEvent } from '@durable-session/core';

type SdkType = SessionEvent['type'] | 'fetch.chunk';

/** Required string fields of each SDK event type (`nonEmpty`: must not be ''). */
const REQUIRED: Record<SdkType, { nonEmpty: readonly string[]; text: readonly string[] }> = {
  prompt: { nonEmpty: ['turnId', 'clientId'], text: ['text'] },
  'turn.start': { nonEmpty: ['turnId', 'agentId'], text: [] },
  delta: { nonEmpty: ['turnId', 'agentId'], text: ['text'] },
  'turn.end': { nonEmpty: ['turnId', 'agentId'], text: [] },
  'fetch.chunk': { nonEmpty: ['turnId', 'agentId'], text: ['text'] },
  cancel: { nonEmpty: ['turnId', 'clientId'], text: [] },
  steer: { nonEmpty: ['turnId', 'clientId'], text: ['text'] },
  'steer.ack': { nonEmpty: ['turnId', 'agentId', 'steerId'], text: [] },
  ask: { nonEmpty: ['turnId', 'agentId', 'askId', 'question'], text: [] },
  answer: { nonEmpty: ['turnId', 'askId', 'choice', 'clientId', 'answerId'], text: [] },
  'ask.closed': { nonEmpty: ['turnId', 'agentId', 'askId'], text: [] },
};

/** Most options a question offers, and the longest option. */
export const MAX_ASK_OPTIONS = 20;
const MAX_OPTION_LENGTH = 200;
const STEER_ACK_STATES = new Set(['received', 'applied', 'rejected']);
const ASK_CLOSE_REASONS = new Set(['timeout', 'cancelled']);

const END_REASONS = new Set(['complete', 'cancelled', 'error']);
const AGENT_TYPES: ReadonlySet<string> = new Set(['turn.start', 'delta', 'turn.end', 'fetch.chunk', 'steer.ack', 'ask', 'ask.closed']);
const CONTROL_TYPES: ReadonlySet<string> = new Set(['cancel', 'steer', 'answer']);
/** Longest `type` string of an event in a session. */
const MAX_TYPE_LENGTH = 200;

/**
 * What one event in an append does, as `authorize` sees it: `append` (a `prompt` or an
 * application event), `control` (`cancel`, `steer`, `answer`) or `agent` (`turn.start`, `delta`,
 * `turn.end`, `fetch.chunk`, `steer.ack`, `ask`, `ask.closed`: only agents may write these).
 * @example
 * const allowed: EventAction[] = role === 'viewer' ? [] : ['append', 'control'];
 */
export type EventAction = 'append' | 'control' | 'agent';

/**
 * Whether a value is an object whose `type` is one of the SDK's event types.
 * @example
 * isSdkEvent({ type: 'cancel', turnId: '*', clientId: 'c1' }); // true
 * isSdkEvent({ type: 'tool.call' }); // false
 */
export function isSdkEvent(value: unknown): value is { type: SdkType } & Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const type = (value as { type?: unknown }).type;
  return typeof type === 'string' && Object.hasOwn(REQUIRED, type);
}

/**
 * Why an SDK event is malformed, or `undefined` when it is fine. Values that are not
 * SDK events (application events, any other JSON) are always fine here; see
 * {@link problemWithSessionEvent} for what a session stream accepts.
 * @example
 * problemWithEvent({ type: 'cancel', turnId: 't1' }); // 'cancel: "clientId" must be a non-empty string'
 */
export function problemWithEvent(value: unknown): string | undefined {
  if (!isSdkEvent(value)) return undefined;
  const spec = REQUIRED[value.type];
  for (const field of spec.nonEmpty) {
    const v = value[field];
    if (typeof v !== 'string' || v.length === 0) return `${value.type}: "${field}" must be a non-empty string`;
  }
  for (const field of spec.text) {
    if (typeof value[field] !== 'string') return `${value.type}: "${field}" must be a string`;
  }
  return problemWithFields(value);
}

/** The checks beyond required strings, per type. */
function problemWithFields(value: { type: SdkType } & Record<string, unknown>): string | undefined {
  switch (value.type) {
    case 'turn.end':
      if (!END_REASONS.has(value.reason as string)) return 'turn.end: "reason" must be complete, cancelled or error';
      if (value.error !== undefined && typeof value.error !== 'string') return 'turn.end: "error" must be a string';
      return undefined;
    case 'steer':
      return value.steerId === undefined || (typeof value.steerId === 'string' && value.steerId !== '') ? undefined : 'steer: "steerId" must be a non-empty string';
    case 'steer.ack':
      if (!STEER_ACK_STATES.has(value.state as string)) return 'steer.ack: "state" must be received, applied or rejected';
      return value.reason === undefined || typeof value.reason === 'string' ? undefined : 'steer.ack: "reason" must be a string';
    case 'ask':
      return problemWithAsk(value);
    case 'ask.closed':
      return ASK_CLOSE_REASONS.has(value.reason as string) ? undefined : 'ask.closed: "reason" must be timeout or cancelled';
    default:
      return undefined;
  }
}

function problemWithAsk(value: Record<string, unknown>): string | undefined {
  const options = value.options;
  if (!Array.isArray(options) || options.length === 0 || options.length > MAX_ASK_OPTIONS) return `ask: "options" must be 1 to ${MAX_ASK_OPTIONS} strings`;
  if (!options.every((o) => typeof o === 'string' && o !== '' && o.length <= MAX_OPTION_LENGTH)) return `ask: each option must be a non-empty string of at most ${MAX_OPTION_LENGTH} characters`;
  if (new Set(options).size !== options.length) return 'ask: options must not repeat';
  if (value.expiresAt !== undefined && !Number.isFinite(value.expiresAt)) return 'ask: "expiresAt" must be a number';
  return undefined;
}

/**
 * Why a value cannot be an event of a session stream, or `undefined` when it can: it must
 * be a JSON object with a non-empty string `type`, and the SDK's own types are checked
 * field by field.
 * @example
 * problemWithSessionEvent(null); // 'an event must be a JSON object with a string "type"'
 * problemWithSessionEvent({ type: 'note', text: 'hi' }); // undefined
 */
export function problemWithSessionEvent(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'an event must be a JSON object with a string "type"';
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || type === '') return 'an event must be a JSON object with a string "type"';
  if (type.length > MAX_TYPE_LENGTH) return `an event "type" must be at most ${MAX_TYPE_LENGTH} characters`;
  return problemWithEvent(value);
}

/**
 * The {@link EventAction} of a (well-formed) session event.
 * @example
 * actionOfEvent({ type: 'delta', turnId: 't', agentId: 'a', text: 'x' }); // 'agent'
 */
export function actionOfEvent(value: unknown): EventAction {
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof type !== 'string') return 'append';
  if (AGENT_TYPES.has(type)) return 'agent';
  return CONTROL_TYPES.has(type) ? 'control' : 'append';
}
