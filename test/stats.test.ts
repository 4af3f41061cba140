// A/B statistics against answers computed by hand.
import { describe, expect, it } from 'vitest';
import { difference, ratio, summarize, t95 } from '../src/core/stats.js';

describe('stats', () => {
  it('summary: mean, sample sigma, median', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.stddev).toBeCloseTo(Math.sqrt(32 / 7), 12); // sum of squares 32, n - 1 = 7
    expect(s.median).toBe(4.5);
    expect([s.min, s.max, s.n]).toEqual([2, 9, 8]);
    expect(summarize([3]).stddev).toBe(0);
    expect(summarize([3, 1, 2]).median).toBe(2);
  });
  it('Welch difference: 95% interval, significant only beyond the noise', () => {
    // a: mean 10, s 1 (n 5); b: mean 7, s 1 (n 5): se = sqrt(0.2 + 0.2), df = 8, t = 2.306
    const d = difference(summarize([9, 9.5, 10, 10.5, 11].map((x) => x)), summarize([6, 6.5, 7, 7.5, 8]));
    const s = Math.sqrt(2.5 / 4); // both samples: sum of squares 2.5, n - 1 = 4
    expect(d.diff).toBeCloseTo(-3, 12);
    expect(d.ci95).toBeCloseTo(2.306 * Math.sqrt((2 * s * s) / 5), 9);
    expect(d.significant).toBe(true);
    const noisy = difference(summarize([1, 5, 9]), summarize([2, 6, 10]));
    expect(noisy.diff).toBe(1);
    expect(noisy.significant).toBe(false);
    expect(difference(summarize([1]), summarize([2])).significant).toBe(false); // one run each: no verdict
  });
  it('ratio with propagated uncertainty (hyperfine)', () => {
    const r = ratio({ n: 3, mean: 100, stddev: 10, median: 100, min: 90, max: 110 }, { n: 3, mean: 150, stddev: 15, median: 150, min: 135, max: 165 });
    expect(r.ratio).toBe(1.5);
    expect(r.stddev).toBeCloseTo(1.5 * Math.sqrt(0.01 + 0.01), 12);
  });
  it('t quantiles', () => {
    expect(t95(1)).toBe(12.706);
    expect(t95(8)).toBe(2.306);
    expect(t95(100)).toBe(1.96);
  });
});
