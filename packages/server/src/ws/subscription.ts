import { modeOf } from '../content-type';
import { SessionServerError } from '../errors';
import type { ReadOutcome } from '../store';
import { openRead, readOrThrow, requireStream, type HandlerConfig } from '../protocol/config';
import { readBody, utf8 } from '../protocol/responses';
import type { SocketSender, Subscription } from './connection';

type OkRead = Extract<ReadOutcome, { status: 'ok' }>;

/**
 * Feed one subscription: the same store reads as an SSE response (catch-up from the offset,
 * then one read per wake-up, each at most `maxReadBytes`), each sent as one `events` frame.
 * The next read waits until the previous frame was handed to the OS: a reader that does not
 * drain holds at most one batch per subscription, and is cut off (see `createSender`).
 * Without `live` it stops once up to date (the subscription stays, so the session can be
 * appended to). Throws the read's error (404, 410, 400), which ends the subscription.
 */
export async function pumpSubscription(s: Subscription, config: HandlerConfig, sender: SocketSender): Promise<void> {
  const signal = s.stop.signal;
  let read = await openRead(config, s.session, s.offset);
  if (modeOf(read.stream.contentType) !== 'json') {
    throw new SessionServerError('content-type-mismatch', `session ${s.session} is a ${read.stream.contentType} stream; the socket carries JSON streams only`);
  }
  let first = true;
  for (;;) {
    if (signal.aborted) return;
    if (read.entries.length > 0 || first || read.closed) await sender.send(eventsFrame(s, read)).catch(() => undefined);
    first = false;
    if (read.closed || signal.aborted || (read.upToDate && !s.live)) return;
    if (read.upToDate) {
      const woke = await config.store.wait(s.session, read.next, signal);
      if (woke === 'aborted') return;
      if (woke === 'not-found') await requireStream(config, s.session, false); // throws the 404 or 410
    }
    read = await readOrThrow(config, s.session, { from: read.next, maxBytes: config.maxReadBytes });
  }
}

/** `{"kind":"events",…,"events":[<stored JSON texts>]}`, built from the stored bytes without parsing them. */
function eventsFrame(s: Subscription, read: OkRead): Uint8Array {
  const head = JSON.stringify({ kind: 'events', sub: s.sub, session: s.session, offset: read.next, upToDate: read.upToDate, closed: read.closed });
  return Buffer.concat([
    utf8(`${head.slice(0, -1)},"events":`),
    readBody(
      read.entries.map((e) => e.data),
      true,
    ),
    utf8('}'),
  ]);
}
