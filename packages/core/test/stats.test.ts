import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  pairedBootstrap,
  pairedPermutationTest,
  SeededRng,
  seedsBootstrap,
  wilsonInterval
} from "@maspo/core"

const bernoulli = (rng: SeededRng, p: number, n: number): Array<number> =>
  Array.from({ length: n }, () => (rng.next() < p ? 1 : 0))

describe("SeededRng.resampleMean", () => {
  it("property: the same mean and the same next state as drawing with int() in a loop", () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.nat({ max: 50 }),
        fc.array(fc.double({ noNaN: true, min: -1e6, max: 1e6 }), { maxLength: 40 }),
        (seed, skip, values) => {
          const a = new SeededRng(seed)
          const b = new SeededRng(seed)
          for (let i = 0; i < skip; i++) (a.nextUint32(), b.nextUint32())
          let sum = 0
          for (let i = 0; i < values.length; i++) sum += values[b.int(values.length)]!
          assert.strictEqual(a.resampleMean(values), values.length === 0 ? 0 : sum / values.length)
          assert.deepStrictEqual(a.state, b.state)
        }
      )
    )
  })
})

describe("statistics", () => {
  it("property: the Wilson interval contains the observed proportion and stays in [0, 1]", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const k = Math.round(f * n)
        const ci = wilsonInterval(k, n)
        return ci.low >= 0 && ci.high <= 1 && ci.low <= k / n + 1e-12 && ci.high >= k / n - 1e-12
      })
    )
  })

  it("the Wilson interval covers the true proportion about 95% of the time", () => {
    const rng = new SeededRng(1)
    let covered = 0
    const trials = 2000
    for (let t = 0; t < trials; t++) {
      const p = 0.1 + 0.8 * rng.next()
      const k = bernoulli(rng, p, 100).reduce((a, b) => a + b, 0)
      const ci = wilsonInterval(k, 100)
      if (ci.low <= p && p <= ci.high) covered++
    }
    assert.isAbove(covered / trials, 0.93)
    assert.isBelow(covered / trials, 0.97)
  })

  it("the two-level seeds bootstrap covers the true mean accuracy about 95% of the time", () => {
    // Each seed's system has its own accuracy around a common mean (run-to-run variance), and is
    // measured on a finite test set: the interval must cover the common mean.
    const rng = new SeededRng(2)
    let covered = 0
    const trials = 300
    for (let t = 0; t < trials; t++) {
      const mu = 0.6
      const perSeed = Array.from({ length: 10 }, () => bernoulli(rng, mu + (rng.next() - 0.5) * 0.2, 100))
      const { ci } = seedsBootstrap(perSeed, { seed: t, resamples: 500 })
      if (ci.low <= mu && mu <= ci.high) covered++
    }
    assert.isAbove(covered / trials, 0.9)
    assert.isBelow(covered / trials, 0.99)
  })

  it("the paired tests have the right sign and detect a real difference", () => {
    const rng = new SeededRng(3)
    const base = bernoulli(rng, 0.5, 300)
    // b improves on a third of a's failures: a true positive difference.
    const better = base.map((x) => (x === 0 && rng.next() < 0.33 ? 1 : x))
    const perm = pairedPermutationTest(better, base, { seed: 4 })
    assert.isAbove(perm.diff, 0)
    assert.isBelow(perm.pValue, 0.01)
    const reverse = pairedPermutationTest(base, better, { seed: 4 })
    assert.isBelow(reverse.diff, 0)
    const boot = pairedBootstrap(better, base, { seed: 5 })
    assert.isAbove(boot.ci.low, 0)
    assert.isTrue(boot.ci.low <= boot.diff && boot.diff <= boot.ci.high)
  })

  it("the permutation test has about 5% false positives at level 0.05 under the null", () => {
    const rng = new SeededRng(6)
    let rejections = 0
    const trials = 400
    for (let t = 0; t < trials; t++) {
      const a = bernoulli(rng, 0.6, 80)
      const b = bernoulli(rng, 0.6, 80)
      if (pairedPermutationTest(a, b, { seed: t, permutations: 400 }).pValue < 0.05) rejections++
    }
    assert.isBelow(rejections / trials, 0.08)
    assert.isAbove(rejections / trials, 0.02)
  })

  it("the exact permutation test matches a hand count", () => {
    // Differences +1, +1, +1: 2 of the 8 sign patterns reach |sum| >= 3.
    assert.strictEqual(pairedPermutationTest([1, 1, 1, 0], [0, 0, 0, 0], { seed: 0 }).pValue, 0.25)
    assert.strictEqual(pairedPermutationTest([1, 0], [1, 0], { seed: 0 }).pValue, 1)
  })
})
