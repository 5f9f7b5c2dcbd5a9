import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextFrame, placeholderSnapshot, subscribeFrames, type FrameScheduler, type Subscribable } from './frame';

function writable<T>(value: T): Subscribable<T> & { set(next: T): void; listeners(): number } {
  const subs = new Set<(v: T) => void>();
  return {
    set(next) {
      value = next;
      for (const s of subs) s(value);
    },
    subscribe(cb) {
      const own = (v: T): void => cb(v);
      subs.add(own);
      own(value);
      return () => subs.delete(own);
    },
    listeners: () => subs.size,
  };
}

/** A manual frame clock: `tick()` runs the pending frame callbacks. */
function manualFrames(): FrameScheduler & { tick(): void; pending(): number } {
  let queue = new Map<number, () => void>();
  let id = 0;
  const schedule: FrameScheduler = (flush) => {
    const own = ++id;
    queue.set(own, flush);
    return () => void queue.delete(own);
  };
  return Object.assign(schedule, {
    tick() {
      const run = queue;
      queue = new Map();
      for (const f of run.values()) f();
    },
    pending: () => queue.size,
  });
}

describe('subscribeFrames', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('delivers the first value synchronously', () => {
    const store = writable('a');
    const cb = vi.fn();
    subscribeFrames(store, cb, manualFrames());
    expect(cb).toHaveBeenCalledTimes(1);
    expect(cb).toHaveBeenCalledWith('a');
  });

  it('coalesces a burst of changes into one call with the latest value', () => {
    const store = writable('');
    const frames = manualFrames();
    const cb = vi.fn();
    subscribeFrames(store, cb, frames);
    for (let i = 0; i < 1000; i++) store.set(`${i}`);
    expect(cb).toHaveBeenCalledTimes(1);
    expect(frames.pending()).toBe(1);
    frames.tick();
    expect(cb).toHaveBeenCalledTimes(2);
    expect(cb).toHaveBeenLastCalledWith('999');
  });

  it('skips a frame whose latest value is the one already delivered', () => {
    const store = writable(1);
    const frames = manualFrames();
    const cb = vi.fn();
    subscribeFrames(store, cb, frames);
    store.set(2);
    store.set(1);
    frames.tick();
    expect(cb).toHaveBeenCalledTimes(1);
  });

  it('cancels the pending frame and unsubscribes', () => {
    const store = writable(1);
    const frames = manualFrames();
    const cb = vi.fn();
    const stop = subscribeFrames(store, cb, frames);
    store.set(2);
    stop();
    expect(frames.pending()).toBe(0);
    expect(store.listeners()).toBe(0);
    frames.tick();
    expect(cb).toHaveBeenCalledTimes(1);
  });

  it('uses requestAnimationFrame when it exists', () => {
    const raf = vi.fn((cb: FrameRequestCallback) => setTimeout(() => cb(performance.now()), 16) as unknown as number);
    const caf = vi.fn((id: number) => clearTimeout(id));
    vi.stubGlobal('requestAnimationFrame', raf);
    vi.stubGlobal('cancelAnimationFrame', caf);
    const store = writable(0);
    const cb = vi.fn();
    const stop = subscribeFrames(store, cb);
    store.set(1);
    store.set(2);
    expect(raf).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(16);
    expect(cb).toHaveBeenLastCalledWith(2);
    store.set(3);
    stop();
    expect(caf).toHaveBeenCalledTimes(1);
  });

  it('falls back to a 16 ms timer without requestAnimationFrame', () => {
    expect(typeof requestAnimationFrame).toBe('undefined');
    const store = writable(0);
    const cb = vi.fn();
    subscribeFrames(store, cb);
    store.set(1);
    vi.advanceTimersByTime(15);
    expect(cb).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(cb).toHaveBeenCalledTimes(2);
    expect(cb).toHaveBeenLastCalledWith(1);
  });

  it('calls back at most about 60 times a second at 2,000 changes a second, ending on the full text', () => {
    const store = writable('');
    const cb = vi.fn();
    subscribeFrames(store, cb, nextFrame);
    let text = '';
    for (let ms = 0; ms < 1000; ms++) {
      text += 'ab';
      store.set(text.slice(0, -1));
      store.set(text);
      vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(16);
    expect(cb.mock.calls.length).toBeLessThanOrEqual(1 + 63);
    expect(cb).toHaveBeenLastCalledWith('ab'.repeat(1000));
  });
});

describe('placeholderSnapshot', () => {
  it('is an empty, connecting snapshot', () => {
    const s = placeholderSnapshot({ sessionId: 'chat-1' });
    expect(s).toMatchObject({ sessionId: 'chat-1', status: 'connecting', offset: '-1', turns: [], activeTurnId: undefined, recovered: true, resumed: false });
    expect(s.turns).toBe(s.state.turns);
  });

  it('starts from a custom initial state', () => {
    const initialState = { turns: [], activeTurnId: undefined, tools: ['search'] };
    const s = placeholderSnapshot({ sessionId: 'x', initialState });
    expect(s.state.tools).toEqual(['search']);
  });
});
