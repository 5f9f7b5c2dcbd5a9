import { parseBeatValue } from '../presence';
import type { WsClientFrame, WsProducer } from '@durable-session/core';
import { SessionServerError } from '../errors';
import { isReadableOffset } from '../offsets';
import { pathOf, streamIdOf } from '../protocol/routes';

/** A frame that could not be accepted, with whatever identified it (so the error reaches its owner). */
export class FrameError extends SessionServerError {
  readonly ref: number | undefined;
  readonly sub: number | undefined;

  constructor(error: SessionServerError, ids: { ref?: unknown; sub?: unknown }) {
    super(error.code, error.message);
    this.ref = isId(ids.ref) ? ids.ref : undefined;
    this.sub = isId(ids.sub) ? ids.sub : undefined;
  }
}

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (message: string): SessionServerError => new SessionServerError('bad-request', message);

/**
 * Parse and check one text frame of a client. Throws a {@link FrameError}: `payload-too-large`
 * past `maxBytes` (still parsed, so the error carries the frame's `ref`), `invalid-json`, or
 * `bad-request` for an unknown `kind` and fields of the wrong type.
 */
export function parseClientFrame(text: string, byteLength: number, maxBytes: number): WsClientFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (byteLength > maxBytes) throw new FrameError(tooLarge(maxBytes), {});
    throw new FrameError(new SessionServerError('invalid-json', `the frame is not JSON: ${(error as Error).message}`), {});
  }
  const ids = isRecord(value) ? { ref: value.ref, sub: value.sub } : {};
  if (byteLength > maxBytes) throw new FrameError(tooLarge(maxBytes), ids);
  try {
    return checkFrame(value);
  } catch (error) {
    throw new FrameError(error as SessionServerError, ids);
  }
}

function tooLarge(maxBytes: number): SessionServerError {
  return new SessionServerError('payload-too-large', `the frame exceeds ${maxBytes} bytes`);
}

function checkFrame(value: unknown): WsClientFrame {
  if (!isRecord(value)) throw bad('a frame is a JSON object');
  switch (value.kind) {
    case 'subscribe': {
      const offset = value.offset;
      if (typeof offset !== 'string' || !isReadableOffset(offset)) throw new SessionServerError('invalid-offset', `malformed offset: ${JSON.stringify(offset)}`);
      if (value.live !== undefined && typeof value.live !== 'boolean') throw bad('"live" must be a boolean');
      return { kind: 'subscribe', sub: id(value, 'sub'), session: session(value), offset, live: value.live !== false };
    }
    case 'unsubscribe':
      return { kind: 'unsubscribe', sub: id(value, 'sub') };
    case 'append': {
      if (!('event' in value)) throw bad('an append needs an "event"');
      if (value.close !== undefined && typeof value.close !== 'boolean') throw bad('"close" must be a boolean');
      const frame: WsClientFrame = { kind: 'append', ref: id(value, 'ref'), session: session(value), event: value.event, close: value.close === true };
      if (value.producer !== undefined) frame.producer = producer(value.producer);
      return frame;
    }
    case 'create':
      return { kind: 'create', ref: id(value, 'ref'), session: session(value) };
    case 'presence': {
      const beat = parseBeatValue(value);
      return { kind: 'presence', ref: id(value, 'ref'), session: session(value), ...beat };
    }
    case 'ping':
      if (value.t !== undefined && typeof value.t !== 'number') throw bad('"t" must be a number');
      return value.t === undefined ? { kind: 'ping' } : { kind: 'ping', t: value.t };
    default:
      throw bad(`unknown frame kind: ${JSON.stringify(value.kind)}`);
  }
}

function id(value: Record<string, unknown>, name: 'ref' | 'sub'): number {
  const v = value[name];
  if (!isId(v)) throw bad(`"${name}" must be a non-negative integer`);
  return v;
}

function session(value: Record<string, unknown>): string {
  const v = value.session;
  if (typeof v !== 'string' || v === '') throw bad('"session" must be a non-empty string');
  // The same ids as over HTTP: no reserved `__` streams (the session index), no `.`/`..` segments, at most 512 characters.
  if (streamIdOf(pathOf(v, '/'), '/') !== v) throw bad(`"session" is not a session id: ${v.slice(0, 64)}`);
  return v;
}

function producer(value: unknown): WsProducer {
  if (!isRecord(value)) throw bad('"producer" must be an object { id, epoch, seq }');
  const { id: pid, epoch, seq } = value;
  if (typeof pid !== 'string' || pid.trim() === '') throw bad('"producer.id" must be a non-empty string');
  if (!isId(epoch) || !isId(seq)) throw bad('"producer.epoch" and "producer.seq" must be non-negative integers');
  return { id: pid, epoch, seq };
}
