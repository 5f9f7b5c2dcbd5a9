import { DurableSessionError, pageOf, type SnapshotPage } from '@durable-session/core';
import { SessionServerError } from '../errors';
import { foldedSession } from '../snapshots';
import { authorizeRequest, type HandlerConfig } from './config';
import { jsonResponse } from './responses';
import type { ProtocolRequest, ProtocolResponse } from './exchange';

/** Turns a snapshot page holds when the request does not say. */
export const DEFAULT_PAGE_TURNS = 10;

/**
 * `GET /v1/stream/<id>?snapshot[&turns=N][&before=<turnId>][&at=<offset>]`: a page of the session
 * folded on the server (see `docs/snapshots.md`): the last `turns` turns (or the ones before
 * `before`) as JSON `{ offset, turns, older }`. Read from `offset` on to follow the log.
 */
export async function handleSnapshot(request: ProtocolRequest, id: string, config: HandlerConfig): Promise<ProtocolResponse> {
  const params = request.url.searchParams;
  const turns = params.get('turns') === null ? DEFAULT_PAGE_TURNS : Number(params.get('turns'));
  if (!Number.isInteger(turns) || turns < 1) throw new SessionServerError('bad-request', 'turns must be a positive integer');
  const before = params.get('before') ?? undefined;
  const at = params.get('at') ?? undefined;
  await authorizeRequest(config, request, id, 'read');
  const folded = await foldedSession(config.store, id, at);
  let page: SnapshotPage;
  try {
    page = pageOf(folded.state, folded.offset, before === undefined ? { turns } : { turns, before });
  } catch (error) {
    if (DurableSessionError.isInstance(error)) throw new SessionServerError('bad-request', error.message);
    throw error;
  }
  return jsonResponse(200, page);
}
