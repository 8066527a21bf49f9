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
