import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that forwards to a target and can cut every open
 * connection at any moment: the test's stand-in for Wi-Fi dropping mid-answer.
 */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point the client here. */
  readonly url: string;
  /** Open client connections right now. */
  readonly openConnections: number;
  /** Connections accepted since start. */
  readonly accepted: number;
  /** Connections destroyed by {@link cut}. */
  readonly cuts: number;
  /** Destroy every open connection (both sides), mid-byte if need be. Returns how many were cut. */
  cut(): number;
  /** Cut at random moments, every `minMs`..`maxMs`, until `stop()` or `count` cuts were made. */
  cutRandomly(options: { minMs: number; maxMs: number; count: number; random?: () => number }): { stop(): void; done: Promise<number> };
  close(): Promise<void>;
}

/** Start a proxy forwarding 127.0.0.1:<random port> to `target` (`http://127.0.0.1:PORT`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  let accepted = 0;
  let cuts = 0;

  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect({ host: hostname, port: Number(port) });
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;

  const cut = (): number => {
    const n = pairs.size;
    for (const { client, upstream } of [...pairs]) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    pairs.clear();
    cuts += n;
    return n;
  };

  return {
    url: `http://127.0.0.1:${address.port}`,
    get openConnections() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    get cuts() {
      return cuts;
    },
    cut,
    cutRandomly({ minMs, maxMs, count, random = Math.random }) {
      let made = 0;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let finish: (n: number) => void = () => {};
      const done = new Promise<number>((resolve) => (finish = resolve));
      const schedule = (): void => {
        if (made >= count) return finish(made);
        timer = setTimeout(() => {
          if (cut() > 0) made++;
          schedule();
        }, minMs + random() * (maxMs - minMs));
      };
      schedule();
      return {
        stop() {
          clearTimeout(timer);
          finish(made);
        },
        done,
      };
    },
    async close() {
      cut();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
