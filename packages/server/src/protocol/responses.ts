import { SessionServerError, statusOfCode, type SessionServerErrorCode } from '../errors';
import type { ProtocolResponse } from './exchange';

/** The JSON body of every error response. */
export interface ErrorBody {
  error: { code: SessionServerErrorCode; message: string };
}

/**
 * An error response: the code's status and `{ "error": { "code", "message" } }`.
 * `headers` adds protocol headers (e.g. `Stream-Closed` on a 409 for a closed stream).
 */
export function errorResponse(code: SessionServerErrorCode, message: string, headers: Record<string, string> = {}): ProtocolResponse {
  return jsonResponse(statusOfCode(code), { error: { code, message } } satisfies ErrorBody, headers);
}

/** A JSON response that is never cached. */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): ProtocolResponse {
  const body = utf8(JSON.stringify(value));
  return { status, headers: { 'content-type': 'application/json', 'content-length': String(body.byteLength), 'cache-control': 'no-store', ...headers }, body };
}

/** Turn a thrown value into a response (a {@link SessionServerError} keeps its code). */
export function responseForError(error: unknown): ProtocolResponse {
  if (SessionServerError.isInstance(error)) return errorResponse(error.code, error.message);
  return errorResponse('internal', 'internal server error');
}

/** A response without body. */
export function emptyResponse(status: number, headers: Record<string, string> = {}): ProtocolResponse {
  return { status, headers, body: null };
}

const encoder = new TextEncoder();

/** Node's Buffer, where there is one (Node, Bun, Deno): its small strings share a pool instead of one ArrayBuffer each. */
const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: 'utf8'): Uint8Array<ArrayBuffer> } }).Buffer;

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return NodeBuffer === undefined ? encoder.encode(text) : NodeBuffer.from(text, 'utf8');
}

/** Concatenate byte chunks, optionally with a separator and brackets (JSON arrays). */
export function concatBytes(chunks: readonly Uint8Array[], wrap?: { open: Uint8Array; separator: Uint8Array; close: Uint8Array }): Uint8Array<ArrayBuffer> {
  let length = chunks.reduce((sum, c) => sum + c.byteLength, 0);
  if (wrap !== undefined) length += wrap.open.byteLength + wrap.close.byteLength + wrap.separator.byteLength * Math.max(0, chunks.length - 1);
  const out = new Uint8Array(length);
  let at = 0;
  const put = (bytes: Uint8Array): void => {
    out.set(bytes, at);
    at += bytes.byteLength;
  };
  if (wrap !== undefined) put(wrap.open);
  chunks.forEach((chunk, i) => {
    if (wrap !== undefined && i > 0) put(wrap.separator);
    put(chunk);
  });
  if (wrap !== undefined) put(wrap.close);
  return out;
}

const JSON_ARRAY = { open: utf8('['), separator: utf8(','), close: utf8(']') };

/** The body of a read: a JSON array of the messages (JSON mode) or the bytes. */
export function readBody(entries: readonly Uint8Array[], json: boolean): Uint8Array<ArrayBuffer> {
  return json ? concatBytes(entries, JSON_ARRAY) : concatBytes(entries);
}
