import { describe, expect, it } from 'vitest';
import { createBackoff } from './retry';

describe('createBackoff', () => {
  it('full jitter: each delay is random in [0, ceiling), the ceiling doubles from 250 ms', () => {
    const max = createBackoff({}, () => 0.999999);
    const ceilings = Array.from({ length: 8 }, () => max.next());
    const expected = [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000];
    ceilings.forEach((d, i) => {
      expect(d).toBeLessThan(expected[i]!);
      expect(d).toBeGreaterThan(expected[i]! * 0.999);
    });
    const min = createBackoff({}, () => 0);
    expect(Array.from({ length: 5 }, () => min.next())).toEqual([0, 0, 0, 0, 0]);
  });

  it('stays within bounds with Math.random', () => {
    const b = createBackoff({ initialDelayMs: 100, maxDelayMs: 1000, multiplier: 3 });
    for (let i = 0; i < 200; i++) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(1000, 100 * 3 ** i));
    }
  });

  it('caps at maxDelayMs even after many attempts', () => {
    const b = createBackoff({ maxDelayMs: 10_000 }, () => 0.5);
    for (let i = 0; i < 2000; i++) b.next();
    expect(b.next()).toBe(5000);
  });

  it('reset starts over from the first ceiling', () => {
    const b = createBackoff({}, () => 0.5);
    b.next();
    b.next();
    expect(b.next()).toBe(500);
    b.reset();
    expect(b.next()).toBe(125);
  });
});
