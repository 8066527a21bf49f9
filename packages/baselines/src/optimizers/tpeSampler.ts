/**
 * A Tree-structured Parzen Estimator over categorical dimensions (Bergstra et al. 2011; the
 * categorical TPE of Optuna, used by MIPRO to pick one instruction per module). Pure and seeded: the
 * only randomness comes from the RNG passed to `suggest`, so the same history and RNG state give the
 * same suggestion.
 *
 * Dimension `d` has `dimensions[d]` options, numbered 0..n-1. `value` is maximised.
 */

/** The part of `SeededRng` the sampler uses (any uniform [0, 1) source works). */
export interface UniformSource {
  next(): number
}

export interface TpeTrial {
  readonly choice: ReadonlyArray<number>
  readonly value: number
}

export interface TpeSamplerOptions {
  /** Uniformly random suggestions before the model is used (capped for tiny spaces, see `startupTrials`). */
  readonly nStartup: number
  /** Fraction of the history, the best ones, that forms the "good" set (at least one trial). */
  readonly gamma: number
  /** Pseudo-count added to every option of every dimension in both densities (Laplace smoothing). */
  readonly priorWeight: number
  /** Candidates drawn from the good density; the one with the largest l(x)/g(x) is suggested. */
  readonly nEiCandidates: number
  /**
   * Suggest only choices not in the history while any candidate is new (a deviation from plain TPE,
   * see `suggest`): a repeated choice teaches nothing when its value is reused, and without this the
   * good density collapses onto one choice that then wins every draw.
   */
  readonly avoidDuplicates: boolean
}

export const defaultTpeSamplerOptions: TpeSamplerOptions = {
  nStartup: 10,
  gamma: 0.25,
  priorWeight: 1,
  nEiCandidates: 24,
  avoidDuplicates: true
}

/** Number of joint choices (the product of the options per dimension). */
export const spaceSize = (dimensions: ReadonlyArray<number>): number => dimensions.reduce((a, n) => a * n, 1)

/** Random startup trials: `nStartup`, but at most half the space (and at least one). */
export const startupTrials = (dimensions: ReadonlyArray<number>, nStartup: number): number =>
  Math.max(0, Math.min(nStartup, Math.max(1, Math.floor(spaceSize(dimensions) / 2))))

/** Number of trials in the good set for a history of `n` trials: ceil(gamma n), at least 1. */
export const goodCount = (n: number, gamma: number): number =>
  n === 0 ? 0 : Math.min(n, Math.max(1, Math.ceil(gamma * n)))

/**
 * The good (best `goodCount`) and bad (the rest) trials. Sorted by value, highest first; ties keep
 * history order (earlier first), and NaN counts as the worst value.
 */
export const splitHistory = (
  history: ReadonlyArray<TpeTrial>,
  gamma: number
): { readonly good: Array<TpeTrial>; readonly bad: Array<TpeTrial> } => {
  const key = (t: TpeTrial) => (Number.isNaN(t.value) ? -Infinity : t.value)
  const ranked = history
    .map((t, i) => ({ t, i }))
    .sort((a, b) => key(b.t) - key(a.t) || a.i - b.i)
    .map((x) => x.t)
  const k = goodCount(history.length, gamma)
  return { good: ranked.slice(0, k), bad: ranked.slice(k) }
}

/**
 * The smoothed categorical density of dimension `d` over `trials`:
 * p(k) = (count of k + prior) / (trials + prior * options). Out-of-range choices are not counted.
 */
export const categoricalDensity = (
  trials: ReadonlyArray<TpeTrial>,
  d: number,
  options: number,
  prior: number
): Array<number> => {
  const counts = Array.from({ length: options }, () => prior)
  for (const t of trials) {
    const c = t.choice[d]
    if (c !== undefined && Number.isInteger(c) && c >= 0 && c < options) counts[c]! += 1
  }
  const total = counts.reduce((a, b) => a + b, 0)
  return counts.map((c) => (total > 0 ? c / total : 1 / options))
}

/** A stable key of a joint choice. */
export const choiceKey = (choice: ReadonlyArray<number>): string => choice.join(",")

/** Rounds of candidate draws (and uniform retries) before a duplicate is accepted. */
const MAX_ROUNDS = 8

/** An index drawn from a discrete distribution by inverse CDF (one uniform draw). */
const drawIndex = (probs: ReadonlyArray<number>, u: number): number => {
  let acc = 0
  for (let k = 0; k < probs.length; k++) {
    acc += probs[k]!
    if (u < acc) return k
  }
  return probs.length - 1
}

export class TpeSampler {
  readonly options: TpeSamplerOptions

  constructor(
    readonly dimensions: ReadonlyArray<number>,
    options: Partial<TpeSamplerOptions> = {}
  ) {
    for (const n of dimensions) {
      if (!Number.isInteger(n) || n < 1)
        throw new RangeError(`TpeSampler: a dimension needs >= 1 option, got ${n}`)
    }
    this.options = { ...defaultTpeSamplerOptions, ...options }
  }

  /**
   * The next joint choice to try, given the trials so far. Startup: uniform. Then: split the history
   * into good and bad, draw `nEiCandidates` choices from the good density (each dimension
   * independently) and return the one maximising prod_d l_d(x) / g_d(x) (first one on ties).
   * With `avoidDuplicates`, choices already in the history are skipped: up to 8 rounds of candidates
   * are drawn until one is new, then up to 8 x `nEiCandidates` uniform draws; only if all of those
   * were seen (a nearly exhausted space) is a known choice returned.
   */
  suggest(history: ReadonlyArray<TpeTrial>, rng: UniformSource): Array<number> {
    const dims = this.dimensions
    const avoid = this.options.avoidDuplicates
    const seen = new Set(avoid ? history.map((t) => choiceKey(t.choice)) : [])
    const fresh = (x: ReadonlyArray<number>) => !seen.has(choiceKey(x))
    const uniform = () => dims.map((n) => Math.min(n - 1, Math.floor(rng.next() * n)))
    const uniformFresh = () => {
      let x = uniform()
      const tries = avoid ? MAX_ROUNDS * Math.max(1, this.options.nEiCandidates) : 1
      for (let i = 1; i < tries && !fresh(x); i++) x = uniform()
      return x
    }
    if (history.length < startupTrials(dims, this.options.nStartup)) return uniformFresh()

    const { good, bad } = splitHistory(history, this.options.gamma)
    const prior = this.options.priorWeight
    const l = dims.map((n, d) => categoricalDensity(good, d, n, prior))
    const g = dims.map((n, d) => categoricalDensity(bad, d, n, prior))
    // log l(x)/g(x) per dimension and option, summed over dimensions for a candidate.
    const ratio = l.map((ld, d) => ld.map((p, k) => Math.log(p) - Math.log(g[d]![k]!)))

    let fallback: Array<number> | undefined
    for (let round = 0; round < (avoid ? MAX_ROUNDS : 1); round++) {
      let best: Array<number> | undefined
      let bestScore = -Infinity
      for (let c = 0; c < Math.max(1, this.options.nEiCandidates); c++) {
        const x = l.map((ld) => drawIndex(ld, rng.next()))
        const score = x.reduce((s, k, d) => s + ratio[d]![k]!, 0)
        fallback ??= x
        if (!fresh(x)) continue
        if (best === undefined || score > bestScore) {
          best = x
          bestScore = score
        }
      }
      if (best !== undefined) return best
    }
    const x = uniformFresh()
    return fresh(x) ? x : fallback!
  }
}
