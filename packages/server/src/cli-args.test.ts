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
      demoAgent: true,
      demoDelayMs: 5,
      longPollTimeoutMs: 1500,
      maxBodyBytes: 2048,
      genericStreams: true,
      help: false,
    });
    expect(parseCliArgs(['-h']).help).toBe(true);
  });

  it('refuses unknown flags, missing or invalid values, and unknown stores', () => {
    for (const argv of [['--bogus'], ['--port'], ['--port', 'abc'], ['--port', '70000'], ['--store', 'redis'], ['--demo-agent=yes'], ['stray']]) {
      expect(() => parseCliArgs(argv), argv.join(' ')).toThrow(CliUsageError);
    }
  });
});
