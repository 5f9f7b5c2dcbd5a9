/** What the `durable-session-server` command line asked for. */
export interface CliOptions {
  port: number;
  host: string;
  store: 'memory';
  demoAgent: boolean;
  /** Per-word delay of the demo agent, in ms. */
  demoDelayMs: number | undefined;
  longPollTimeoutMs: number | undefined;
  maxBodyBytes: number | undefined;
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
  --store memory           where sessions live (default memory)
  --demo-agent             answer every prompt with the built-in demo agent
  --demo-delay <ms>        pause between the demo agent's words (default 30)
  --long-poll-timeout <ms> how long a long-poll waits before 204 (default 20000)
  --max-body-bytes <n>     largest accepted request body (default 1048576)
  --generic-streams        serve application/json streams as generic Durable Streams
                           (any JSON; no session event checks or roles)
  -h, --help               show this help
`;

const VALUE_FLAGS = new Set(['--port', '--host', '--store', '--demo-delay', '--long-poll-timeout', '--max-body-bytes']);

/**
 * Parse the CLI arguments (without `node` and the script path).
 * @throws {CliUsageError} on unknown flags, missing or invalid values.
 */
export function parseCliArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = {
    port: 4437,
    host: '127.0.0.1',
    store: 'memory',
    demoAgent: false,
    demoDelayMs: undefined,
    longPollTimeoutMs: undefined,
    maxBodyBytes: undefined,
    genericStreams: false,
    help: false,
  };
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
        if (value !== 'memory') throw new CliUsageError(`unknown store: ${String(value)} (available: memory)`);
        options.store = 'memory';
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

function integer(flag: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n < min || n > max) {
    throw new CliUsageError(`${flag} must be an integer from ${min} to ${max}, not ${String(value)}`);
  }
  return n;
}
