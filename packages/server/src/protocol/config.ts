import { SessionServerError } from '../errors';
import { NOW } from '../offsets';
import type { ReadOptions, SessionStore, StreamInfo } from '../store';
import type { CorsOrigin } from './headers';

/**
 * What a request wants to do with a session, as passed to `authorize`: `read` (GET, HEAD),
 * `append` (POST), `control` (POST closing the stream or carrying `cancel`/`steer`),
 * `create` (PUT), `delete` (DELETE), and `connect`: opening a WebSocket (with `sessionId` `''`;
 * each of its subscriptions and appends is then checked as `read`, `append` or `control`).
 * @example
 * const writes: SessionAction[] = ['append', 'control', 'create', 'delete'];
 */
export type SessionAction = 'read' | 'append' | 'control' | 'create' | 'delete' | 'connect';

/**
 * Decides whether a request may act on a session. Return `false` (→ 403) or throw a
 * `SessionServerError` (`unauthorized` → 401, `forbidden` → 403) to refuse; return
 * nothing or `true` to allow. `control` is a POST that closes the stream or carries a
 * `cancel`/`steer`; a fork PUT is also checked as `read` on its source.
 * @example
 * const authorize: Authorize = (request, { action }) => action === 'read' || request.headers.has('authorization');
 */
export type Authorize = (request: Request, context: { sessionId: string; action: SessionAction }) => boolean | void | Promise<boolean | void>;

/** Everything the protocol handler needs, with defaults applied. */
export interface HandlerConfig {
  store: SessionStore;
  basePath: string;
  authorize: Authorize | undefined;
  maxBodyBytes: number;
  maxReadBytes: number;
  longPollTimeoutMs: number;
  sseMaxDurationMs: number;
  sseKeepAliveMs: number;
  cors: CorsOrigin;
  validateEvents: boolean;
  onSessionStream: ((id: string, stream: StreamInfo) => Promise<void>) | undefined;
  onError: (error: unknown) => void;
}

/** Ask `authorize`; throw the refusal. */
export async function authorizeRequest(config: HandlerConfig, request: Request, sessionId: string, action: SessionAction): Promise<void> {
  if (config.authorize === undefined) return;
  const verdict = await config.authorize(request, { sessionId, action });
  if (verdict === false) throw new SessionServerError('forbidden', `not allowed to ${action} session ${sessionId}`);
}

/** The stream's metadata, or the 404/410 error. */
export async function requireStream(config: HandlerConfig, id: string, touch: boolean): Promise<StreamInfo> {
  const lookup = await config.store.head(id, { touch });
  if (lookup.status === 'not-found') throw new SessionServerError('not-found', `no session ${id}`);
  if (lookup.status === 'gone') throw new SessionServerError('gone', `session ${id} was deleted`);
  return lookup.stream;
}

/** A read, with every non-`ok` outcome turned into its HTTP error. */
export async function readOrThrow(config: HandlerConfig, id: string, options: ReadOptions) {
  const r = await config.store.read(id, options);
  switch (r.status) {
    case 'ok':
      return r;
    case 'not-found':
      throw new SessionServerError('not-found', `no session ${id}`);
    case 'gone':
      throw new SessionServerError('gone', `session ${id} was deleted`);
    case 'offset-gone':
      throw new SessionServerError('gone', `offset ${options.from} is no longer retained; the earliest is ${r.earliest}`);
    case 'offset-beyond-tail':
      throw new SessionServerError('invalid-offset', `offset ${options.from} is beyond the tail ${r.tail}`);
  }
}

/**
 * The first read of a live reader (SSE, a WebSocket subscription) from `offset` (`now`: the
 * tail), with every failure thrown as its HTTP error, so 404/410/400 are real answers.
 */
export async function openRead(config: HandlerConfig, id: string, offset: string) {
  const from = offset === NOW ? (await requireStream(config, id, true)).tail : offset;
  return readOrThrow(config, id, { from, maxBytes: config.maxReadBytes, touch: true });
}

/** `Stream-Next-Offset` and `Stream-Closed` of a stream. */
export function positionHeaders(tail: string, closed: boolean): Record<string, string> {
  return closed ? { 'stream-next-offset': tail, 'stream-closed': 'true' } : { 'stream-next-offset': tail };
}
