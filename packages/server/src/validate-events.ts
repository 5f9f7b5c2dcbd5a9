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
};

const END_REASONS = new Set(['complete', 'cancelled', 'error']);
const AGENT_TYPES: ReadonlySet<string> = new Set(['turn.start', 'delta', 'turn.end', 'fetch.chunk']);
/** Longest `type` string of an event in a session. */
const MAX_TYPE_LENGTH = 200;

/**
 * What one event in an append does, as `authorize` sees it: `append` (a `prompt` or an
 * application event), `control` (`cancel`, `steer`) or `agent` (`turn.start`, `delta`,
 * `turn.end`, `fetch.chunk`: only agents may write these).
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
  if (value.type === 'turn.end') {
    if (!END_REASONS.has(value.reason as string)) return 'turn.end: "reason" must be complete, cancelled or error';
    if (value.error !== undefined && typeof value.error !== 'string') return 'turn.end: "error" must be a string';
  }
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
  return type === 'cancel' || type === 'steer' ? 'control' : 'append';
}
