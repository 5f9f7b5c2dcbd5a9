/** How a stream frames its data: JSON messages, or a plain byte sequence. */
export type StreamMode = 'json' | 'bytes';

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const CONTENT_TYPE = new RegExp(`^\\s*${TOKEN}/${TOKEN}\\s*(;.*)?$`);
const JSON_TYPE = 'application/json';

/**
 * The media type of a `Content-Type` value, lower-cased, without parameters.
 * @example
 * mediaType('Application/JSON; charset=utf-8'); // 'application/json'
 */
export function mediaType(contentType: string): string {
  if (contentType === JSON_TYPE) return contentType; // nearly every request: no split, no copy
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * Whether a `Content-Type` value is syntactically valid (`type/subtype[; params]`).
 * @example
 * isValidContentType('text/plain'); // true
 */
export function isValidContentType(contentType: string): boolean {
  return contentType === JSON_TYPE || CONTENT_TYPE.test(contentType);
}

/**
 * The framing mode of a stream with this content type: `application/json` is JSON mode.
 * @example
 * modeOf('application/json'); // 'json'
 */
export function modeOf(contentType: string): StreamMode {
  return mediaType(contentType) === JSON_TYPE ? 'json' : 'bytes';
}

/**
 * Whether SSE can carry the stream's data as text (`text/*` and JSON); other types are base64.
 * @example
 * isTextual('text/plain'); // true
 */
export function isTextual(contentType: string): boolean {
  const type = mediaType(contentType);
  return type.startsWith('text/') || type === 'application/json';
}
