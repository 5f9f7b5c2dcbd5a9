import { packageConfig } from '../../tsup.config';

// Two entry points: the client, and the WebSocket adapter (`@durable-session/core/websocket`),
// so apps that only speak HTTP never load the socket code.
// Code splitting in CJS too, so both entry points share one DurableSessionError class.
export default packageConfig({ entry: ['src/index.ts', 'src/websocket.ts'], splitting: true });
