import { SeededRng } from "./random.ts"

/** Statistics used in reports. Pure functions. */

export interface Interval {
  readonly low: number
  readonly high: number
}

/**
 * Wilson score interval for a binomial proportion: well behaved near 0 and 1 and for small n,
 * unlike the normal approximation.
 */
export const wilsonInterval = (successes: number, n: number, z = 1.959963984540054): Interval => {
  if (n === 0) return { low: 0, high: 1 }
  const p = successes / n
  const z2 = z * z
  const denom = 1 + z2 / n
  const centre = (p + z2 / (2 * n)) / denom
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) }
}

export const mean = (xs: ReadonlyArray<number>): number =>
  xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length

export const formatPercent = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`

/**
 * Paired bootstrap over items for the difference of two systems' mean scores on the same items.
 * Resampling uses the given seed, so the interval is reproducible.
 */
export const pairedBootstrap = (
  a: ReadonlyArray<number>,
  b: ReadonlyArray<number>,
  options: { readonly seed: number; readonly resamples?: number; readonly level?: number }
): { readonly diff: number; readonly ci: Interval; readonly pValue: number } => {
  if (a.length !== b.length) throw new RangeError("pairedBootstrap: the two score lists must be paired")
  const n = a.length
  const d = a.map((x, i) => x - b[i]!)
  const diff = mean(d)
  const resamples = options.resamples ?? 2000
  const rng = new SeededRng(options.seed)
  const stats: Array<number> = []
  for (let r = 0; r < resamples; r++) {
    let s = 0
    for (let i = 0; i < n; i++) s += d[rng.int(n)]!
    stats.push(s / n)
  }
  stats.sort((x, y) => x - y)
  const alpha = (1 - (options.level ?? 0.95)) / 2
  const q = (p: number) => stats[Math.min(resamples - 1, Math.max(0, Math.floor(p * resamples)))]!
  // Two-sided p-value from the bootstrap distribution re-centred at zero (a shift test).
  const extreme = stats.filter((s) => Math.abs(s - diff) >= Math.abs(diff)).length
  return {
    diff,
    ci: { low: q(alpha), high: q(1 - alpha) },
    pValue: n === 0 ? 1 : (extreme + 1) / (resamples + 1)
  }
}

/**
 * Mean accuracy over seeds with a 95% CI from a two-level bootstrap: resample seeds, then resample
 * test items within each drawn seed. It accounts for both run-to-run variance (the optimizer's
 * randomness) and the finite test set.
 */
export const seedsBootstrap = (
  perSeed: ReadonlyArray<ReadonlyArray<number>>,
  options: { readonly seed: number; readonly resamples?: number; readonly level?: number }
): { readonly mean: number; readonly ci: Interval } => {
  const seedMeans = perSeed.map(mean)
  const m = mean(seedMeans)
  if (perSeed.length === 0) return { mean: Number.NaN, ci: { low: Number.NaN, high: Number.NaN } }
  return {
    mean: m,
    ci: percentileInterval(
      twoLevelDraws(perSeed, options.seed, options.resamples ?? 2000),
      options.level ?? 0.95
    )
  }
}

/** The resampled means of the two-level bootstrap (seeds, then items within each drawn seed). */
export const twoLevelDraws = (
  perSeed: ReadonlyArray<ReadonlyArray<number>>,
  seed: number,
  resamples: number
): Array<number> => {
  const rng = new SeededRng(seed)
  const draws: Array<number> = []
  for (let r = 0; r < resamples; r++) {
    let total = 0
    for (let s = 0; s < perSeed.length; s++) total += rng.resampleMean(perSeed[rng.int(perSeed.length)]!)
    draws.push(total / perSeed.length)
  }
  return draws
}

/** The central `level` percentile interval of bootstrap draws. */
export const percentileInterval = (draws: ReadonlyArray<number>, level: number): Interval => {
  const sorted = draws.slice().sort((a, b) => a - b)
  const n = sorted.length
  const alpha = (1 - level) / 2
  const q = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.floor(p * n)))]!
  return { low: q(alpha), high: q(1 - alpha) }
}

/**
 * Two-sided paired permutation (sign-flip) test of mean(a - b) = 0. Exact when 2^n is small,
 * otherwise Monte Carlo with the given seed; the p-value counts the observed statistic, so it is
 * never zero.
 */
export const pairedPermutationTest = (
  a: ReadonlyArray<number>,
  b: ReadonlyArray<number>,
  options: { readonly seed: number; readonly permutations?: number }
): { readonly diff: number; readonly pValue: number } => {
  if (a.length !== b.length) throw new RangeError("pairedPermutationTest: the two score lists must be paired")
  const d = a.map((x, i) => x - b[i]!).filter((x) => x !== 0)
  const n = a.length
  const observed = Math.abs(d.reduce((s, x) => s + x, 0))
  const diff = n === 0 ? 0 : d.reduce((s, x) => s + x, 0) / n
  if (d.length === 0) return { diff, pValue: 1 }
  const eps = 1e-9
  if (d.length <= 16) {
    let extreme = 0
    const total = 1 << d.length
    for (let mask = 0; mask < total; mask++) {
      let s = 0
      for (let i = 0; i < d.length; i++) s += mask & (1 << i) ? -d[i]! : d[i]!
      if (Math.abs(s) >= observed - eps) extreme++
    }
    return { diff, pValue: extreme / total }
  }
  const permutations = options.permutations ?? 5000
  const rng = new SeededRng(options.seed)
  let extreme = 0
  for (let p = 0; p < permutations; p++) {
    let s = 0
    for (let i = 0; i < d.length; i++) s += rng.next() < 0.5 ? -d[i]! : d[i]!
    if (Math.abs(s) >= observed - eps) extreme++
  }
  return { diff, pValue: (extreme + 1) / (permutations + 1) }
}
