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
