import { SessionServerError } from '../errors';
import { parseBeat, PRESENCE_BEAT_MS } from '../presence';
import { authorizeRequest, type HandlerConfig } from './config';
import type { ProtocolRequest, ProtocolResponse } from './exchange';
import { jsonResponse } from './responses';

const MAX_BEAT_BYTES = 1024;

/**
 * `POST <stream URL>?presence` with `{ clientId, tabId, leave? }`: record the tab's beat and
 * answer `{ clients: [{ clientId, tabs }], beatMs }`. Checked by `authorize` as `read` (viewers
 * are present too); a bound `clientId` must be the beat's. Nothing is written to the session.
 */
export async function handlePresence(request: ProtocolRequest, id: string, config: HandlerConfig): Promise<ProtocolResponse> {
  const body = await request.body(MAX_BEAT_BYTES, config.bodyTimeoutMs);
  const beat = parseBeat(new TextDecoder().decode(body));
  const caller = await authorizeRequest(config, request, id, 'read');
  if (caller.clientId !== undefined && caller.clientId !== beat.clientId) {
    throw new SessionServerError('forbidden', `this caller is client ${caller.clientId}, not ${beat.clientId}`);
  }
  const clients = config.presence.beat(id, beat);
  return jsonResponse(200, { clients, beatMs: PRESENCE_BEAT_MS });
}
