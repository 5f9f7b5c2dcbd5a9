/**
 * `@durable-session/core/websocket`: the WebSocket adapter, in its own entry point so that
 * apps using only HTTP do not load it.
 * @example
 * import { websocketAdapter } from '@durable-session/core/websocket';
 * const adapter = websocketAdapter({ url: 'wss://api.example.com/v1/socket' });
 */
export { websocketAdapter, type WebSocketAdapter, type WebSocketAdapterOptions } from './adapters/websocket';
export { errorOfFrame, type WebSocketConstructor } from './adapters/ws-connection';
export * from './ws-protocol';
