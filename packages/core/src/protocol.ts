/**
 * Every name of the Durable Streams protocol this SDK speaks, in one place: the client
 * (`httpAdapter`, `durableFetch`) and `@durable-session/server` import them from here.
 * Stream header names are spelled as the protocol spells them (HTTP compares them
 * case-insensitively; `Headers` reports them lower-case), the durable-response ones lower-case.
 * Each name is its own constant so that a client bundle keeps only those it uses.
 */

/** Response: the offset to read from next. */
export const NEXT_OFFSET_HEADER = 'Stream-Next-Offset';
/** Response: present when the response reaches the current end of the stream. */
export const UP_TO_DATE_HEADER = 'Stream-Up-To-Date';
/** Response (and `PUT`/`POST` request): `true` when the stream is closed for good. */
export const CLOSED_HEADER = 'Stream-Closed';
/** Response: the cursor a live read echoes as `cursor=` (CDN request collapsing). */
export const CURSOR_HEADER = 'Stream-Cursor';
/** Request: the idempotent producer's id. */
export const PRODUCER_ID_HEADER = 'Producer-Id';
/** Request: the producer's epoch (bumped when it restarts). */
export const PRODUCER_EPOCH_HEADER = 'Producer-Epoch';
/** Request: the producer's sequence number within its epoch. */
export const PRODUCER_SEQ_HEADER = 'Producer-Seq';

/**
 * The Durable Streams header names, as one table (what the server uses; a client imports the
 * single constants above).
 * @example
 * response.headers.get(STREAM_HEADERS.nextOffset);
 */
export const STREAM_HEADERS = {
  nextOffset: NEXT_OFFSET_HEADER,
  upToDate: UP_TO_DATE_HEADER,
  closed: CLOSED_HEADER,
  cursor: CURSOR_HEADER,
  ttl: 'Stream-TTL',
  expiresAt: 'Stream-Expires-At',
  seq: 'Stream-Seq',
  forkedFrom: 'Stream-Forked-From',
  forkOffset: 'Stream-Fork-Offset',
  forkSubOffset: 'Stream-Fork-Sub-Offset',
  sseEncoding: 'Stream-SSE-Data-Encoding',
  producerId: PRODUCER_ID_HEADER,
  producerEpoch: PRODUCER_EPOCH_HEADER,
  producerSeq: PRODUCER_SEQ_HEADER,
  producerExpectedSeq: 'Producer-Expected-Seq',
  producerReceivedSeq: 'Producer-Received-Seq',
} as const;

/**
 * Headers of a durable response (written by `durableResponse` of `@durable-session/server`):
 * the session id, the turn id, an offset at or before the turn's start, the session's stream
 * URL and, optionally, the URL whose `GET` re-attaches to the answer.
 * @example
 * const turnId = response.headers.get(DURABLE_FETCH_HEADERS.turn);
 */
export const DURABLE_FETCH_HEADERS = {
  session: 'durable-session-id',
  turn: 'durable-session-turn',
  offset: 'durable-session-offset',
  stream: 'durable-session-stream',
  resume: 'durable-session-resume',
} as const;
