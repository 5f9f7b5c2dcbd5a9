// A session server in its own process, for measuring its memory per idle socket:
// it prints its URL on IPC, then answers { mem: true } with its heap and RSS after a full GC.
import { createSessionServer, listen } from '@durable-session/server';

const server = createSessionServer();
const running = await listen(server, { port: 0 });
process.send({ url: running.url });
process.on('message', async (message) => {
  if (message.mem) {
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    const { heapUsed, external, rss } = process.memoryUsage();
    process.send({ mem: { heapUsed, external, rss, sockets: server.websocket.connections } });
  }
  if (message.stop) {
    await running.close();
    await server.close();
    process.exit(0);
  }
});
