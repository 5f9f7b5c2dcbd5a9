import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initialSessionState, reduceSession, type SessionEvent, type Turn } from '@durable-session/core';
import { createSessionServer, listen, SessionServerError, type SessionStore } from '@durable-session/server';
import { playgroundAgent, type AbortedTurn } from './agent';
import { staticFiles } from './static-files';

export { playgroundAgent, planAnswer, COMPARE_AGENTS, type AbortedTurn, type PlaygroundAgentOptions } from './agent';

/**
 * Options of {@link startPlayground}.
 * @example
 * const options: PlaygroundOptions = { port: 0, tokensPerSecond: 200 };
 */
export interface PlaygroundOptions {
  /** TCP port; `0` picks a free one. Default 5173. */
  port?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Pace of the agent's answers. Default 30 tokens a second. */
  tokensPerSecond?: number;
  /** The built app to serve. Default: `playground/dist/app` (built by `npm run build -w playground`). */
  staticDir?: string;
  /** Background failures (agents, store, responses). Default `console.error`. */
  onError?: (error: unknown) => void;
  /**
   * Where sessions live. Default: the server's own memory store. Pass a shared store (Redis) to
   * run several playground nodes on the same sessions; the caller closes it.
   */
  store?: SessionStore;
}

/**
 * A running playground.
 * @example
 * const playground = await startPlayground({ port: 0 });
 * console.log(playground.url);
 * await playground.close();
 */
export interface Playground {
  /** `http://HOST:PORT`. */
  readonly url: string;
  readonly port: number;
  /** Every agent writer whose `AbortSignal` fired, in order (grows while the server runs). */
  readonly abortedTurns: readonly AbortedTurn[];
  /** One turn as the server stored it, folded from the session's log (`undefined` if absent). */
  readTurn(sessionId: string, turnId: string): Promise<Turn | undefined>;
  /** Stop serving, end running turns, drop the memory store. Idempotent. */
  close(): Promise<void>;
}

/** Where the built app is, from this module's source (`server/`) or its bundle (`dist/server/`). */
function defaultStaticDir(): string {
  const candidates = ['../dist/app/', '../app/'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  const found = candidates.find((dir) => existsSync(`${dir}index.html`));
  if (found === undefined) throw new Error(`the playground app is not built (looked in ${candidates.join(', ')}); run \`npm run build -w playground\``);
  return found;
}

/**
 * Start the playground: one node:http server with the session API (Durable Streams
 * protocol at `/v1/stream/<sessionId>` and the WebSocket at `/v1/socket`, memory store), the playground agent answering
 * every prompt, and the built React, Vue and Svelte pages (`/`, `/vue.html`, `/svelte.html`).
 * @param options Port, host, the agent's pace, where the built app is.
 * @returns The URL, `close()`, the record of aborted turns and a reader of stored turns.
 * @example
 * const playground = await startPlayground({ port: 0, tokensPerSecond: 200 });
 * // … drive a browser at playground.url …
 * const turn = await playground.readTurn(sessionId, turnId);
 * await playground.close();
 */
export async function startPlayground(options: PlaygroundOptions = {}): Promise<Playground> {
  const onError = options.onError ?? ((error: unknown) => console.error('[playground]', error));
  const files = staticFiles(options.staticDir ?? defaultStaticDir());
  const abortedTurns: AbortedTurn[] = [];
  const server = createSessionServer(options.store === undefined ? { onError } : { onError, store: options.store });
  server.host.onPrompt(
    playgroundAgent({ tokensPerSecond: options.tokensPerSecond ?? 30, onAbort: (turn) => abortedTurns.push(turn), onError }),
    { agentId: 'assistant' },
  );
  const handler = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    if (!path.startsWith('/v1/')) return files(request);
    // Sessions exist from their first read (the client would otherwise get a 404, create it and read again).
    const session = /^\/v1\/stream\/([A-Za-z0-9_-]{1,100})$/.exec(path)?.[1];
    if (session !== undefined && request.method === 'GET') await server.host.session(session).ensure();
    return server.handler(request);
  };
  let running: Awaited<ReturnType<typeof listen>>;
  try {
    // HTTP, and the WebSocket endpoint at /v1/socket (the page's "WebSocket" transport).
    running = await listen({ handler, upgrade: server.upgrade }, { port: options.port ?? 5173, host: options.host ?? '127.0.0.1', onError });
  } catch (error) {
    await server.close();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    url: running.url,
    port: running.port,
    abortedTurns,
    async readTurn(sessionId, turnId) {
      const session = server.host.session(sessionId);
      let state = initialSessionState;
      for (let from = '-1'; ; ) {
        const read = await session.read({ from }).catch((error: unknown) => {
          if (SessionServerError.isInstance(error) && error.code === 'not-found') return undefined; // no such session: no turn
          throw error;
        });
        if (read === undefined) return undefined;
        for (const { event } of read.events) state = reduceSession(state, event as SessionEvent);
        if (read.upToDate || read.events.length === 0) break;
        from = read.next;
      }
      return state.turns.find((turn) => turn.turnId === turnId);
    },
    close() {
      closing ??= (async () => {
        await running.close();
        await server.close();
      })();
      return closing;
    },
  };
}
