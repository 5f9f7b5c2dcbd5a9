import { describe, expect, it, vi } from 'vitest';
import { onStopRequest, startFailure, type StoppableProcess } from './cli-process';

/** A process whose parent can change, as when the shell between npm and node dies. */
function fakeProcess(env: NodeJS.ProcessEnv): StoppableProcess & { ppid: number; fire(signal: string): void } {
  const listeners = new Map<string, () => void>();
  return {
    env,
    ppid: 100,
    once(signal, listener) {
      listeners.set(signal, listener);
      return this;
    },
    fire(signal) {
      listeners.get(signal)?.();
    },
  };
}

describe('onStopRequest', () => {
  it('stops on SIGINT and on SIGTERM', () => {
    for (const signal of ['SIGINT', 'SIGTERM']) {
      const stop = vi.fn();
      const proc = fakeProcess({});
      onStopRequest(stop, proc);
      proc.fire(signal);
      expect(stop, signal).toHaveBeenCalledOnce();
    }
  });

  it('stops when npm started it and the shell in between died (the parent changed)', async () => {
    vi.useFakeTimers();
    try {
      const stop = vi.fn();
      const proc = fakeProcess({ npm_lifecycle_event: 'npx' });
      onStopRequest(stop, proc, 50);
      await vi.advanceTimersByTimeAsync(200);
      expect(stop).not.toHaveBeenCalled();
      proc.ppid = 1;
      await vi.advanceTimersByTimeAsync(60);
      expect(stop).toHaveBeenCalledOnce();
      await vi.advanceTimersByTimeAsync(200);
      expect(stop).toHaveBeenCalledOnce();
    } finally {
      vi.useRealTimers();
    }
  });

  it('outside npm, a parent that goes away (nohup, a closed terminal) does not stop the server', async () => {
    vi.useFakeTimers();
    try {
      const stop = vi.fn();
      const proc = fakeProcess({});
      onStopRequest(stop, proc, 50);
      proc.ppid = 1;
      await vi.advanceTimersByTimeAsync(500);
      expect(stop).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('startFailure', () => {
  it('says the port is taken and how to pick another', () => {
    const error = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:4437'), { code: 'EADDRINUSE' });
    expect(startFailure(error, 4437)).toBe(
      'listen EADDRINUSE: address already in use 127.0.0.1:4437 (port 4437 is taken: pass another with --port, e.g. --port 4438, or --port 0 for any free one)',
    );
  });

  it('passes any other error through as its message', () => {
    expect(startFailure(Object.assign(new Error('listen EACCES'), { code: 'EACCES' }), 80)).toBe('listen EACCES');
    expect(startFailure('boom', 80)).toBe('boom');
  });
});
