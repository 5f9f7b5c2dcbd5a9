import type { SessionEvent } from '@durable-session/core';

type SdkType = SessionEvent['type'];

/** Required string fields of each SDK event type (`nonEmpty`: must not be ''). */
const REQUIRED: Record<SdkType, { nonEmpty: readonly string[]; text: readonly string[] }> = {
  prompt: { nonEmpty: ['turnId', 'clientId'], text: ['text'] },
  'turn.start': { nonEmpty: ['turnId', 'agentId'], text: [] },
  delta: { nonEmpty: ['turnId', 'agentId'], text: ['text'] },
  'turn.end': { nonEmpty: ['turnId', 'agentId'], text: [] },
  cancel: { nonEmpty: ['turnId', 'clientId'], text: [] },
  steer: { nonEmpty: ['turnId', 'clientId'], text: ['text'] },
};

const END_REASONS = new Set(['complete', 'cancelled', 'error']);

/**
 * Whether a value is an object whose `type` is one of the SDK's six event types.
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
 * SDK events (application events, any other JSON) are always fine.
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
