// Statistics for repeated runs (A/B comparisons): pure arithmetic, unit-tested on hand-computed
// answers. The style is hyperfine's: mean ± σ, a ratio with its propagated uncertainty, and a
// verdict only where the difference is larger than the noise.

export interface Summary {
  n: number;
  mean: number;
  /** sample standard deviation (n - 1); 0 for a single value */
  stddev: number;
  median: number;
  min: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { n: 0, mean: NaN, stddev: NaN, median: NaN, min: NaN, max: NaN };
  const mean = values.reduce((a, v) => a + v, 0) / n;
  const stddev = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const sorted = [...values].sort((a, b) => a - b);
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  return { n, mean, stddev, median, min: sorted[0]!, max: sorted[n - 1]! };
}

/** Two-sided 95% Student t quantiles for 1..30 degrees of freedom (then ~1.96). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];
export function t95(df: number): number {
  if (!(df >= 1)) return NaN;
  return df <= 30 ? T95[Math.floor(df) - 1]! : 1.96;
}

export interface Difference {
  /** mean(b) - mean(a) */
  diff: number;
  /** half-width of the 95% confidence interval of the difference (Welch) */
  ci95: number;
  /** the interval excludes 0: the difference is larger than the noise */
  significant: boolean;
}

/** Welch's t interval for mean(b) - mean(a); needs at least 2 values on each side. */
export function difference(a: Summary, b: Summary): Difference {
  const diff = b.mean - a.mean;
  if (a.n < 2 || b.n < 2) return { diff, ci95: NaN, significant: false };
  const va = a.stddev ** 2 / a.n;
  const vb = b.stddev ** 2 / b.n;
  const se = Math.sqrt(va + vb);
  if (se === 0) return { diff, ci95: 0, significant: diff !== 0 };
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  const ci95 = t95(df) * se;
  return { diff, ci95, significant: Math.abs(diff) > ci95 };
}

export interface Ratio {
  /** mean(b) / mean(a) */
  ratio: number;
  /** its standard deviation by error propagation (hyperfine's "± x") */
  stddev: number;
}

export function ratio(a: Summary, b: Summary): Ratio {
  const r = b.mean / a.mean;
  const rel = Math.sqrt((a.stddev / a.mean) ** 2 + (b.stddev / b.mean) ** 2);
  return { ratio: r, stddev: Math.abs(r) * rel };
}
