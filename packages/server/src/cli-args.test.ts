import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliArgs } from './cli-args';

describe('parseCliArgs', () => {
  it('has defaults', () => {
    expect(parseCliArgs([])).toMatchObject({ port: 4437, host: '127.0.0.1', store: 'memory', demoAgent: false, help: false });
  });

  it('reads every flag, as `--flag value` or `--flag=value`', () => {
    expect(
      parseCliArgs(['--port', '0', '--host=0.0.0.0', '--store', 'memory', '--demo-agent', '--demo-delay=5', '--long-poll-timeout', '1500', '--max-body-bytes', '2048', '--generic-streams']),
    ).toEqual({
      port: 0,
      host: '0.0.0.0',
      store: 'memory',
      storeSetting: { kind: 'memory' },
      demoAgent: true,
      demoDelayMs: 5,
      longPollTimeoutMs: 1500,
      maxBodyBytes: 2048,
      turnLeaseSeconds: undefined,
      genericStreams: true,
      help: false,
    });
    expect(parseCliArgs(['-h']).help).toBe(true);
    expect(parseCliArgs(['--turn-lease', '2']).turnLeaseSeconds).toBe(2);
    expect(() => parseCliArgs(['--turn-lease', '0'])).toThrow(CliUsageError);
  });

  it('refuses unknown flags, missing or invalid values, and unknown stores', () => {
    for (const argv of [['--bogus'], ['--port'], ['--port', 'abc'], ['--port', '70000'], ['--store', 'redis'], ['--demo-agent=yes'], ['stray']]) {
      expect(() => parseCliArgs(argv), argv.join(' ')).toThrow(CliUsageError);
    }
  });

  it('takes memory, redis:// URLs, redis (with REDIS_URL) and sqlite:<path>, and DURABLE_SESSION_STORE as the default', () => {
    expect(parseCliArgs(['--store', 'redis://127.0.0.1:6380/2']).storeSetting).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6380/2' });
    expect(parseCliArgs(['--store', 'redis://127.0.0.1:6379/0?prefix=app1:']).storeSetting).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6379/0?prefix=app1:' });
    expect(parseCliArgs(['--store=rediss://cache.internal:6379']).storeSetting).toEqual({ kind: 'redis', url: 'rediss://cache.internal:6379' });
    expect(parseCliArgs(['--store', 'redis'], { REDIS_URL: 'redis://10.0.0.5:6379' }).storeSetting).toEqual({ kind: 'redis', url: 'redis://10.0.0.5:6379' });
    expect(parseCliArgs(['--store', 'sqlite:./data/sessions.db']).storeSetting).toEqual({ kind: 'sqlite', path: './data/sessions.db' });
    expect(parseCliArgs([], { DURABLE_SESSION_STORE: 'sqlite:/var/lib/ds.db' }).storeSetting).toEqual({ kind: 'sqlite', path: '/var/lib/ds.db' });
    expect(parseCliArgs(['--store', 'memory'], { DURABLE_SESSION_STORE: 'sqlite:/x.db' }).storeSetting).toEqual({ kind: 'memory' });
    // REDIS_URL alone does not move the CLI off memory
    expect(parseCliArgs([], { REDIS_URL: 'redis://127.0.0.1:6379' }).storeSetting).toEqual({ kind: 'memory' });
    for (const bad of ['sqlite:', 'redis://', 'redis://host:6379/db', 'postgres://x', 'Memory']) {
      expect(() => parseCliArgs(['--store', bad]), bad).toThrow(CliUsageError);
    }
    expect(() => parseCliArgs([], { DURABLE_SESSION_STORE: 'bogus' })).toThrow(CliUsageError);
  });
});
