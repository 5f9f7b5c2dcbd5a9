import { SessionServerError } from '../errors';
import { NOW } from '../offsets';
import type { ReadOptions, SessionStore, StreamInfo } from '../store';
import type { EventAction } from '../validate-events';
import type { CorsOrigin } from './headers';
import type { PresenceRegistry } from '../presence';
import type { ProtocolRequest } from './exchange';
import type { RecentDataEvents } from './sse';

/**
 * What a request wants to do with a session, as passed to `authorize`: `read` (GET, HEAD),
 * `append` (POST of prompts or application events), `control` (POST carrying `cancel`/`steer`),
 * `agent` (POST carrying agent events, or closing a session stream), `create` (PUT),
 * `delete` (DELETE), and `connect`: opening a WebSocket (with `sessionId` `''`; each of its
 * subscriptions and appends is then checked as `read`, `append`, `control` or `agent`).
 * A POST's action is the strongest of its events' (`agent` > `control` > `append`).
 * @example
 * const writes: SessionAction[] = ['append', 'control', 'agent', 'create', 'delete'];
 */
export type SessionAction = 'read' | 'append' | 'control' | 'agent' | 'create' | 'delete' | 'connect';

/**
 * The three roles an app composes: `viewer` (read only), `participant` (prompts, cancels,
 * steers, application events; the default) and `agent` (also `turn.start`, `delta`,
 * `turn.end`, `fetch.chunk`).
 * @example
 * const role: SessionRole = token.scope === 'read' ? 'viewer' : 'participant';
 */
export type SessionRole = 'viewer' | 'participant' | 'agent';

/**
 * What `authorize` may grant instead of a plain `true`: the caller's role and identity.
 * Every event of the request carrying a `clientId` must carry this one (403 otherwise);
 * an agent's events must carry its `agentId`; `control: 'own-turns'` limits cancels and
 * steers to turns whose prompt this `clientId` wrote (and refuses `turnId: "*"`).
 * @example
 * const grant: AuthGrant = { role: 'participant', clientId: user.id, control: 'own-turns' };
 */
export interface AuthGrant {
  /** Default `participant`. */
  role?: SessionRole;
  clientId?: string;
  agentId?: string;
  /** Default `any`. */
  control?: 'any' | 'own-turns';
}

/**
 * One event of an append as `authorize` sees it: the parsed value and its action.
 * @example
 * const prompts = events.filter((e) => e.action === 'append');
 */
export interface AuthorizedEvent {
  event: unknown;
  action: EventAction;
}

/**
 * What `authorize` is told about a request: the session, the action, and (for POST and
 * PUT with a body on a JSON stream) the parsed events, each with its action.
 * @example
 * const ctx: AuthorizeContext = { sessionId: 'chat-1', action: 'read', events: [] };
 */
export interface AuthorizeContext {
  sessionId: string;
  action: SessionAction;
  events: readonly AuthorizedEvent[];
}

/**
 * Decides whether a request may act on a session. Runs before any store lookup (so 403
 * never tells whether a session exists) and after the body was read (bounded by
 * `maxBodyBytes`) and parsed. Return `false` (→ 403) or throw a `SessionServerError`
 * (`unauthorized` → 401, `forbidden` → 403) to refuse; return nothing or `true` to allow as
 * a `participant`, or an {@link AuthGrant} to bind the caller's role and identity.
 * A fork PUT is also checked as `read` on its source.
 * @example
 * const authorize: Authorize = (request, { action }) => {
 *   const user = userOf(request); // your session cookie or token
 *   if (user === undefined) return false;
 *   return { role: user.canWrite ? 'participant' : 'viewer', clientId: user.id };
 * };
 */
export type Authorize = (request: Request, context: AuthorizeContext) => boolean | void | AuthGrant | Promise<boolean | void | AuthGrant>;

/**
 * Who is calling, once `authorize` decided (see {@link AuthGrant}).
 * @example
 * const caller: Caller = { role: 'participant', clientId: 'u1', agentId: undefined, control: 'any' };
 */
export interface Caller {
  role: SessionRole;
  clientId: string | undefined;
  agentId: string | undefined;
  control: 'any' | 'own-turns';
}

/** The caller when no `authorize` is configured: a participant with no bound identity. */
export const ANONYMOUS: Caller = { role: 'participant', clientId: undefined, agentId: undefined, control: 'any' };

/** Everything the protocol handler needs, with defaults applied. */
export interface HandlerConfig {
  store: SessionStore;
  basePath: string;
  authorize: Authorize | undefined;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  maxReadBytes: number;
  maxReadEntries: number;
  maxEventsPerAppend: number;
  maxSessionEvents: number;
  maxSessionBytes: number;
  maxLiveReadersPerSession: number;
  longPollTimeoutMs: number;
  sseMaxDurationMs: number;
  sseKeepAliveMs: number;
  cors: CorsOrigin;
  /** JSON streams are session streams (strict events, roles); `false` for a generic Durable Streams server. */
  sessionStreams: boolean;
  onSessionStream: ((id: string, stream: StreamInfo) => Promise<void>) | undefined;
  onSessionDeleted: ((id: string) => Promise<void>) | undefined;
  onError: (error: unknown) => void;
  /** Live reads (SSE, long-poll) open per session on this node. */
  liveReaders: Map<string, number>;
  /** SSE data events of recent reads, shared by a session's live readers. */
  recentDataEvents: RecentDataEvents;
  /** Who watches each session now (this node's tabs' beats; never in the log). */
  presence: PresenceRegistry;
}

/** Ask `authorize`; throw the refusal, or return who the caller is. */
export async function authorizeRequest(
  config: { authorize: Authorize | undefined },
  request: ProtocolRequest,
  sessionId: string,
  action: SessionAction,
  events: readonly AuthorizedEvent[] = [],
): Promise<Caller> {
  if (config.authorize === undefined) return ANONYMOUS;
  const verdict = await config.authorize(request.web(), { sessionId, action, events });
  if (verdict === false) throw new SessionServerError('forbidden', `not allowed to ${action} session ${sessionId}`);
  const grant: AuthGrant = typeof verdict === 'object' && verdict !== null ? verdict : {};
  const caller: Caller = {
    role: grant.role ?? 'participant',
    clientId: grant.clientId,
    agentId: grant.agentId,
    control: grant.control ?? 'any',
  };
  if (caller.role === 'viewer' && action !== 'read' && action !== 'connect') throw new SessionServerError('forbidden', `a viewer cannot ${action} session ${sessionId}`);
  return caller;
}

/** The stream's metadata, or the 404 (`not-found` / `deleted`) or 410 error. */
export async function requireStream(config: HandlerConfig, id: string, touch: boolean): Promise<StreamInfo> {
  const lookup = await config.store.head(id, { touch });
  if (lookup.status === 'ok') return lookup.stream;
  throw missing(lookup.status, id);
}

/** The error for a stream that is not there: `deleted` (a tombstone), `gone` (410) or `not-found`. */
export function missing(status: 'not-found' | 'gone' | 'deleted', id: string): SessionServerError {
  if (status === 'deleted') return new SessionServerError('deleted', `session ${id} was deleted`);
  if (status === 'gone') return new SessionServerError('gone', `session ${id} was deleted`);
  return new SessionServerError('not-found', `no session ${id}`);
}

/** After a store said `not-found`: the 404 that tells a deleted session from an unknown one. */
export async function notFound(store: SessionStore, id: string): Promise<SessionServerError> {
  const lookup = await store.head(id);
  return missing(lookup.status === 'deleted' ? 'deleted' : 'not-found', id);
}

/** A read, with every non-`ok` outcome turned into its HTTP error. */
export async function readOrThrow(config: HandlerConfig, id: string, options: ReadOptions) {
  const r = await config.store.read(id, { limit: config.maxReadEntries, ...options });
  switch (r.status) {
    case 'ok':
      return r;
    case 'not-found':
      throw await notFound(config.store, id);
    case 'gone':
      throw new SessionServerError('gone', `session ${id} was deleted`);
    case 'offset-gone':
      throw new SessionServerError('gone', `offset ${options.from} is not readable in this stream (deleted and re-created, restarted, or no longer retained); the earliest is ${r.earliest}`);
    case 'offset-beyond-tail':
      throw new SessionServerError('invalid-offset', `offset ${options.from} is beyond the tail ${r.tail}`);
  }
}

/**
 * The first read of a live reader (SSE, a WebSocket subscription) from `offset` (`now`: the
 * tail), with every failure thrown as its HTTP error, so 404/410/400 are real answers.
 */
export async function openRead(config: HandlerConfig, id: string, offset: string, maxBytes = config.maxReadBytes) {
  const from = offset === NOW ? (await requireStream(config, id, true)).tail : offset;
  return readOrThrow(config, id, { from, maxBytes, touch: true });
}

/** `Stream-Next-Offset` and `Stream-Closed` of a stream. */
export function positionHeaders(tail: string, closed: boolean): Record<string, string> {
  return closed ? { 'stream-next-offset': tail, 'stream-closed': 'true' } : { 'stream-next-offset': tail };
}
