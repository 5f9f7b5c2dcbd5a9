/**
 * The WebSocket wire protocol, version 1 (see `docs/websocket-protocol.md`): JSON text
 * frames, one socket per client, many sessions multiplexed. Shared by `websocketAdapter`
 * and the server's endpoint, so both sides agree on every field.
 */

/**
 * The protocol version, sent by the server in its `hello` frame.
 * @example
 * if (hello.v !== WS_PROTOCOL_VERSION) socket.close();
 */
export const WS_PROTOCOL_VERSION = 1;

/**
 * The `Sec-WebSocket-Protocol` a client asks for (and the server picks).
 * @example
 * new WebSocket('ws://127.0.0.1:4437/v1/socket', WS_SUBPROTOCOL);
 */
export const WS_SUBPROTOCOL = 'durable-session.v1';

/**
 * Where the server serves the socket by default.
 * @example
 * websocketAdapter({ url: `ws://127.0.0.1:4437${WS_PATH}`, WebSocket });
 */
export const WS_PATH = '/v1/socket';

/**
 * An idempotent producer's fields on an `append` frame (`Producer-Id`, `-Epoch`, `-Seq` in HTTP).
 * @example
 * const producer: WsProducer = { id: 'tab-1', epoch: 0, seq: 3 };
 */
export interface WsProducer {
  id: string;
  epoch: number;
  seq: number;
}

/**
 * A frame a client sends.
 * - `subscribe`: read `session` after `offset` (`-1`: the start, `now`: the tail), catch-up then,
 *   with `live` (default `true`), every new batch. `sub` is the client's id for it.
 *   A session must be subscribed (live or not) on the socket before it can be appended to.
 * - `unsubscribe`: stop subscription `sub`.
 * - `append`: `event` is the JSON body of a POST (an array appends each element); answered by
 *   an `ack` or an `error` carrying the same `ref`.
 * - `create`: create the session (a PUT of a JSON stream, idempotent); answered like `append`.
 * - `ping`: answered by a `pong` echoing `t`.
 * - `presence`: this tab's presence beat for `session` (`leave`: it goes); answered by a
 *   `presence` frame with the same `ref` listing who watches. A closed socket leaves at once.
 * @example
 * const frame: WsClientFrame = { kind: 'subscribe', sub: 1, session: 'chat-1', offset: '-1' };
 */
export type WsClientFrame =
  | { kind: 'subscribe'; sub: number; session: string; offset: string; live?: boolean }
  | { kind: 'unsubscribe'; sub: number }
  | { kind: 'append'; ref: number; session: string; event: unknown; producer?: WsProducer; close?: boolean }
  | { kind: 'create'; ref: number; session: string }
  | { kind: 'ping'; t?: number }
  | { kind: 'presence'; ref: number; session: string; clientId: string; tabId: string; leave?: boolean };

/**
 * A batch of a subscription: the events of one store read and the offset after them (an SSE
 * `data` event plus its `control` event).
 * @example
 * const batch: WsEventsFrame = { kind: 'events', sub: 1, session: 'chat-1', events: [], offset: '0000000000000000_0000000000000000', upToDate: true, closed: false };
 */
export interface WsEventsFrame<E = unknown> {
  kind: 'events';
  sub: number;
  session: string;
  events: E[];
  offset: string;
  upToDate: boolean;
  closed: boolean;
}

/**
 * An error: of one append or create (`ref`), of one subscription (`sub`, which has ended), or of a
 * frame that could not be attributed (neither). `code` and `status` are those HTTP would answer
 * with; `headers` carries the protocol's details (e.g. `producer-expected-seq`).
 * @example
 * const error: WsErrorFrame = { kind: 'error', ref: 7, code: 'forbidden', status: 403, message: 'no' };
 */
export interface WsErrorFrame {
  kind: 'error';
  ref?: number;
  sub?: number;
  session?: string;
  code: string;
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/**
 * A frame the server sends. `hello` comes first: the version, the server's heartbeat interval
 * and the largest frame it accepts. `ack.offset` is the session's tail after the append
 * (`Stream-Next-Offset`); `duplicate` marks a producer's retry that was already written.
 * @example
 * if (frame.kind === 'ack') pending.get(frame.ref)?.resolve();
 */
export type WsServerFrame<E = unknown> =
  | { kind: 'hello'; v: number; heartbeatMs: number; maxFrameBytes: number }
  | WsEventsFrame<E>
  | { kind: 'ack'; ref: number; session: string; offset: string; closed: boolean; duplicate: boolean }
  | WsErrorFrame
  | { kind: 'pong'; t?: number }
  | { kind: 'presence'; ref: number; session: string; clients: Array<{ clientId: string; tabs: number }>; beatMs: number };
