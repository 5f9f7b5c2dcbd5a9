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
  /**
   * Destroy every open connection the client has written to (both sides), mid-byte if need be.
   * Returns how many were cut.
   */
  cut(): number;
  /** Cut at random moments, every `minMs`..`maxMs`, until `stop()` or `count` cuts were made. */
  cutRandomly(options: { minMs: number; maxMs: number; count: number; random?: () => number }): { stop(): void; done: Promise<number> };
  /**
   * Stall mode (a proxy that stops forwarding but keeps the sockets open, a half-open network):
   * while on, nothing is forwarded either way on any connection, open or new; nothing is closed.
   * Off again, connections opened meanwhile forward; bytes held back on stalled ones are dropped.
   */
  stall(on: boolean): void;
  close(): Promise<void>;
}

/** Start a proxy forwarding 127.0.0.1:<random port> to `target` (`http://127.0.0.1:PORT`). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; used: boolean }>();
  let accepted = 0;
  let cuts = 0;
  let stalled = false;
  /** Forward `from` → `to` unless stalled (then drop the bytes, as a dead middlebox does). */
  const relay = (from: net.Socket, to: net.Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (!stalled && !to.destroyed) to.write(chunk);
    });
  };

  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect({ host: hostname, port: Number(port) });
    const pair = { client, upstream, used: false };
    pairs.add(pair);
    // Cut a connection only once the client has written to it. Node's fetch (undici 6) resolves its
    // connect on `connect` but attaches its socket listeners later (after an `await`; on the
    // process's first connections, after compiling its HTTP parser): a connection reset in that
    // window loses its `error`/`close`, and the request on it never settles. A client writes its
    // request as soon as those listeners are attached, so its first byte marks the end of the window.
    client.once('data', () => (pair.used = true));
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;

  const cut = (all = false): number => {
    let n = 0;
    for (const pair of [...pairs]) {
      if (!pair.used && !all) continue;
      pairs.delete(pair);
      pair.client.resetAndDestroy();
      pair.upstream.destroy();
      n++;
    }
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
    stall(on) {
      stalled = on;
    },
    cut: () => cut(),
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
      cut(true);
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
