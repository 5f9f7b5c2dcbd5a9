// How the `durable-session-server` process meets its user: when it stops, and what it says when
// it cannot start. Kept apart from cli.ts so both are testable without spawning a process.

/** The part of `process` that {@link onStopRequest} needs. */
export interface StoppableProcess {
  readonly env: NodeJS.ProcessEnv;
  readonly ppid: number;
  once(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

/**
 * Call `stop` on SIGINT or SIGTERM, and also when npm started this process (`npx`, `npm exec`,
 * `npm run`: npm → sh → node) and the shell in between died. npm forwards a SIGTERM only to
 * that shell, which dies without passing it on; without this check the server outlives the
 * command its user stopped.
 *
 * @example
 * onStopRequest(() => void running.close());
 */
export function onStopRequest(stop: () => void, proc: StoppableProcess = process, pollMs = 250): void {
  proc.once('SIGINT', stop);
  proc.once('SIGTERM', stop);
  if (proc.env.npm_lifecycle_event === undefined) return;
  const parent = proc.ppid;
  const watch = setInterval(() => {
    if (proc.ppid === parent) return;
    clearInterval(watch);
    stop();
  }, pollMs);
  watch.unref();
}

/**
 * The message for an error that stopped the CLI before it served, with a hint when the port is
 * taken.
 *
 * @example
 * startFailure(Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' }), 4437);
 * // 'listen EADDRINUSE (port 4437 is taken: pass another with --port, e.g. --port 4438, or --port 0 for any free one)'
 */
export function startFailure(error: unknown, port: number | undefined): string {
  const message = error instanceof Error ? error.message : String(error);
  if ((error as NodeJS.ErrnoException | undefined)?.code !== 'EADDRINUSE') return message;
  const taken = port ?? 4437;
  return `${message} (port ${taken} is taken: pass another with --port, e.g. --port ${taken + 1}, or --port 0 for any free one)`;
}
