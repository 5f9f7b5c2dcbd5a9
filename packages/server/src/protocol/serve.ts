import { SessionServerError } from '../errors';
import { handleAppend } from './append';
import type { HandlerConfig } from './config';
import { handleCreate } from './create';
import type { ProtocolRequest, ProtocolResponse } from './exchange';
import { commonHeaders } from './headers';
import { handleDelete, handleHead } from './meta';
import { handlePresence } from './presence-route';
import { handleRead } from './read';
import { emptyResponse, errorResponse, responseForError } from './responses';
import { streamIdOf } from './routes';

/** Route one request and answer it: every failure becomes its error response; the common headers are added. */
export async function serveProtocol(request: ProtocolRequest, config: HandlerConfig): Promise<ProtocolResponse> {
  let response: ProtocolResponse;
  try {
    response = await route(request, config);
  } catch (error) {
    if (!SessionServerError.isInstance(error) || error.status >= 500) config.onError(error);
    response = responseForError(error);
  }
  Object.assign(response.headers, commonHeaders((name) => request.header(name), config.cors, request.method === 'OPTIONS'));
  return response;
}

async function route(request: ProtocolRequest, config: HandlerConfig): Promise<ProtocolResponse> {
  if (request.method === 'OPTIONS') return emptyResponse(204);
  const url = request.url;
  const id = streamIdOf(url.pathname, config.basePath);
  if (id === undefined) return errorResponse('not-found', 'not a session URL');
  if (request.method === 'POST' && config.sessionStreams && url.search !== '' && url.searchParams.has('presence')) return handlePresence(request, id, config);
  switch (request.method) {
    case 'PUT':
      return handleCreate(request, id, config);
    case 'POST':
      return handleAppend(request, id, config);
    case 'GET':
      return handleRead(request, id, config);
    case 'HEAD':
      return handleHead(request, id, config);
    case 'DELETE':
      return handleDelete(request, id, config);
    default:
      return errorResponse('method-not-allowed', `method ${request.method} is not allowed`, {
        allow: 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
      });
  }
}
