import type { SessionStore } from './store';

/**
 * Why {@link openStore} could not open a store: `invalid-store` (a setting it does not know),
 * `store-not-installed` (the store's package, e.g. `@durable-session/redis`, is not installed),
 * `store-load-failed` (it is installed but failed to load: see `cause`).
 * @example
 * try { await openStore('redis://127.0.0.1:6379'); } catch (e) { if (e instanceof StoreLoadError) console.error(e.message); }
 */
export class StoreLoadError extends Error {
  override readonly name = 'StoreLoadError';
  constructor(
    readonly code: 'invalid-store' | 'store-not-installed' | 'store-load-failed',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A store setting, as the CLI and the playground take it: `memory`, `redis://host:port[/db]`
 * (or `rediss://`; `?prefix=app1:` sets the key prefix), or `sqlite:<path>`.
 * @example
 * const setting: StoreSetting = { kind: 'sqlite', path: './sessions.db' };
 */
export type StoreSetting = { kind: 'memory' } | { kind: 'redis'; url: string } | { kind: 'sqlite'; path: string };

/**
 * Parse a store setting. `redis` alone means the URL in `REDIS_URL` (from `env`).
 * @throws {StoreLoadError} `invalid-store` for anything else.
 * @example
 * parseStoreSetting('sqlite:./sessions.db'); // { kind: 'sqlite', path: './sessions.db' }
 */
export function parseStoreSetting(value: string, env: Readonly<Record<string, string | undefined>> = {}): StoreSetting {
  if (value === 'memory') return { kind: 'memory' };
  if (value === 'redis' && env.REDIS_URL) return parseStoreSetting(env.REDIS_URL);
  if (/^rediss?:\/\/[^/?\s]+(\/\d*)?(\?prefix=[^&\s]+)?$/.test(value)) return { kind: 'redis', url: value };
  if (value.startsWith('sqlite:') && value.length > 'sqlite:'.length) return { kind: 'sqlite', path: value.slice('sqlite:'.length) };
  throw new StoreLoadError(
    'invalid-store',
    `unknown store: ${value} (use memory, redis://host:port[/db], redis with REDIS_URL set, or sqlite:<path>)`,
  );
}

type Importer = (specifier: string) => Promise<unknown>;

/**
 * Open the store a setting names, loading its package (`@durable-session/redis`,
 * `@durable-session/sqlite`) only then, so the server depends on neither. `memory` answers
 * `undefined`: the server's own memory store.
 * @throws {StoreLoadError} `store-not-installed` when the package cannot be loaded.
 * @example
 * const store = await openStore(parseStoreSetting('redis://127.0.0.1:6379/0'));
 * const server = createSessionServer(store === undefined ? {} : { store });
 */
export async function openStore(setting: StoreSetting, importModule: Importer = (specifier) => import(specifier)): Promise<SessionStore | undefined> {
  if (setting.kind === 'memory') return undefined;
  const name = setting.kind === 'redis' ? '@durable-session/redis' : '@durable-session/sqlite';
  const factory = setting.kind === 'redis' ? 'redisStore' : 'sqliteStore';
  let module: unknown;
  try {
    module = await importModule(name);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(`'${name}'`);
    if (missing) throw new StoreLoadError('store-not-installed', `the ${setting.kind} store needs ${name}: npm install ${name}`, { cause: error });
    throw new StoreLoadError('store-load-failed', `${name} failed to load: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const create = (module as Record<string, unknown> | null)?.[factory];
  if (typeof create !== 'function') {
    throw new StoreLoadError('store-not-installed', `${name} does not export ${factory}(): install a matching version`);
  }
  const options = setting.kind === 'redis' ? { url: setting.url } : { path: setting.path };
  return (create as (options: object) => SessionStore)(options);
}
