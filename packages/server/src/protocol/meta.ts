import { authorizeRequest, notFound, positionHeaders, requireStream, type HandlerConfig } from './config';
import { H } from './headers';
import { emptyResponse, errorResponse } from './responses';
import type { ProtocolRequest, ProtocolResponse } from './exchange';

/** HEAD: metadata only (tail, closure, TTL/expiry). Does not reset the sliding TTL. */
export async function handleHead(request: ProtocolRequest, id: string, config: HandlerConfig): Promise<ProtocolResponse> {
  await authorizeRequest(config, request, id, 'read');
  const stream = await requireStream(config, id, false);
  const headers: Record<string, string> = {
    'content-type': stream.contentType,
    ...positionHeaders(stream.tail, stream.closed),
    'cache-control': 'no-store',
  };
  if (stream.ttlSeconds !== undefined) headers[H.ttl] = String(stream.ttlSeconds);
  if (stream.expiresAt !== undefined) headers[H.expiresAt] = stream.expiresAt;
  return emptyResponse(200, headers);
}

/** DELETE: remove the stream (soft-delete while forks reference it). */
export async function handleDelete(request: ProtocolRequest, id: string, config: HandlerConfig): Promise<ProtocolResponse> {
  await authorizeRequest(config, request, id, 'delete');
  const outcome = await config.store.delete(id);
  switch (outcome) {
    case 'deleted':
    case 'soft-deleted':
      await config.onSessionDeleted?.(id).catch(config.onError);
      return emptyResponse(204);
    case 'not-found':
      throw await notFound(config.store, id);
    case 'gone':
      return errorResponse('gone', `session ${id} was deleted`);
  }
}
