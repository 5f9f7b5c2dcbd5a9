import { parseStoreSetting, StoreLoadError, type StoreSetting } from './store-loader';

/** What the `durable-session-server` command line asked for. */
export interface CliOptions {
  port: number;
  host: string;
  /** `memory`, a `redis://` URL or `sqlite:<path>`, as given (see {@link CliOptions.storeSetting}). */
  store: string;
  storeSetting: StoreSetting;
  demoAgent: boolean;
  /** Per-word delay of the demo agent, in ms. */
  demoDelayMs: number | undefined;
  longPollTimeoutMs: number | undefined;
  maxBodyBytes: number | undefined;
  /** Seconds a running turn's lease lasts (the bound on ending a dead node's turns). */
  turnLeaseSeconds: number | undefined;
  /** Serve `application/json` streams as generic Durable Streams (no session event checks or roles). */
  genericStreams: boolean;
  help: boolean;
}

/** A command line the CLI cannot run (exit code 2). */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

export const USAGE = `Usage: durable-session-server [options]

Serves durable sessions (the Durable Streams protocol at /v1/stream/<sessionId>).

Options:
  --port <n>               TCP port; 0 picks a free one (default 4437)
  --host <address>         interface to bind (default 127.0.0.1)
  --store <store>          where sessions live (default: DURABLE_SESSION_STORE, else memory):
                             memory                   this process only, nothing kept
                             redis://host:port[/db]   shared by every node on that Redis
                             redis                    the Redis at REDIS_URL
                             sqlite:<path>            one node, kept in a file across restarts
  --demo-agent             answer every prompt with the built-in demo agent
  --demo-delay <ms>        pause between the demo agent's words (default 30)
  --long-poll-timeout <ms> how long a long-poll waits before 204 (default 20000)
  --max-body-bytes <n>     largest accepted request body (default 1048576)
  --turn-lease <s>         a running turn's lease in the store: another node ends the turns of a
                           node that died within about 4/3 of it (default 6)
  --generic-streams        serve application/json streams as generic Durable Streams
                           (any JSON; no session event checks or roles)
  -h, --help               show this help
`;

const VALUE_FLAGS = new Set(['--port', '--host', '--store', '--demo-delay', '--long-poll-timeout', '--max-body-bytes', '--turn-lease']);

/**
 * Parse the CLI arguments (without `node` and the script path). `env` supplies
 * `DURABLE_SESSION_STORE` (the default of `--store`) and `REDIS_URL` (for `--store redis`).
 * @throws {CliUsageError} on unknown flags, missing or invalid values.
 */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): CliOptions {
  const options: CliOptions = {
    port: 4437,
    host: '127.0.0.1',
    store: 'memory',
    storeSetting: { kind: 'memory' },
    demoAgent: false,
    demoDelayMs: undefined,
    longPollTimeoutMs: undefined,
    maxBodyBytes: undefined,
    turnLeaseSeconds: undefined,
    genericStreams: false,
    help: false,
  };
  if (env.DURABLE_SESSION_STORE) setStore(options, env.DURABLE_SESSION_STORE, env);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    let value: string | undefined;
    if (VALUE_FLAGS.has(flag)) {
      value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw new CliUsageError(`${flag} needs a value`);
    } else if (eq > 0 && arg.startsWith('--')) {
      throw new CliUsageError(`${flag} takes no value`);
    }
    switch (flag) {
      case '--port':
        options.port = integer(flag, value, 0, 65535);
        break;
      case '--host':
        options.host = value as string;
        break;
      case '--store':
        setStore(options, value as string, env);
        break;
      case '--demo-agent':
        options.demoAgent = true;
        break;
      case '--demo-delay':
        options.demoDelayMs = integer(flag, value, 0, 60_000);
        break;
      case '--long-poll-timeout':
        options.longPollTimeoutMs = integer(flag, value, 1, 3_600_000);
        break;
      case '--max-body-bytes':
        options.maxBodyBytes = integer(flag, value, 1, 1024 * 1024 * 1024);
        break;
      case '--turn-lease':
        options.turnLeaseSeconds = integer(flag, value, 1, 3600);
      case '--generic-streams':
        options.genericStreams = true;
        break;
      case '-h':
      case '--help':
        options.help = true;
        break;
      default:
        throw new CliUsageError(`unknown option: ${arg}`);
    }
  }
  return options;
}

function setStore(options: CliOptions, value: string, env: Readonly<Record<string, string | undefined>>): void {
  try {
    options.storeSetting = parseStoreSetting(value, env);
    options.store = value;
  } catch (error) {
    if (error instanceof StoreLoadError) throw new CliUsageError(error.message);
    throw error;
  }
}

function integer(flag: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n < min || n > max) {
    throw new CliUsageError(`${flag} must be an integer from ${min} to ${max}, not ${String(value)}`);
  }
  return n;
}
