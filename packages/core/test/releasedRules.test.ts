import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  BEST_MARGIN,
  type BeamMember,
  FALLBACK_WEIGHTS,
  isMisaligned,
  type ItemVerdict,
  localBest,
  nextBeam,
  pruneBeam,
  releasedCases,
  releasedSanitize,
  resortBeam,
  type ScoredChild,
  updateBest,
  weightedReward
} from "../src/index.ts"

/** The released algorithm's pure rules (paper preset), pinned by properties. */

const prompt = fc.constantFrom("p0", "p1", "p2", "p3")
const score = fc.integer({ min: -10, max: 10 }).map((n) => n / 10)
const member: fc.Arbitrary<BeamMember> = fc.record({ prompt, score })
const verdictValue = fc.option(fc.constantFrom(0, 1), { nil: undefined })
const verdicts: fc.Arbitrary<Array<ItemVerdict>> = fc
  .array(fc.record({ local: verdictValue, lookahead: verdictValue, global: verdictValue }), { maxLength: 12 })
  .map((vs) =>
    vs.map((v, i) => ({
      itemId: `i${i}`,
      ...(v.local !== undefined ? { local: v.local } : {}),
      ...(v.lookahead !== undefined ? { lookahead: v.lookahead } : {}),
      ...(v.global !== undefined ? { global: v.global } : {})
    }))
  )

describe("beam with duplicates kept (dedupeBeam off)", () => {
  it("is the stable top-K by J of its input, duplicates included", () =>
    fc.assert(
      fc.property(fc.array(member, { maxLength: 8 }), fc.integer({ min: 1, max: 4 }), (entries, k) => {
        const beam = pruneBeam(entries, k, false)
        assert.strictEqual(beam.length, Math.min(k, entries.length))
        for (let i = 1; i < beam.length; i++) assert.isAtLeast(beam[i - 1]!.score, beam[i]!.score)
        // Every entry left out scores no higher than the last one kept.
        const last = beam[beam.length - 1]
        if (last) {
          const kept = new Set(beam)
          for (const e of entries) if (!kept.has(e)) assert.isAtMost(e.score, last.score)
        }
        // Same multiset as the stable sort (ties keep input order).
        const expected = [...entries].sort((a, b) => b.score - a.score).slice(0, k)
        assert.deepStrictEqual(beam, expected)
      })
    ))

  it("a child with reward > 0 enters at J(parent) + reward, otherwise a parent copy; failed proposals add copies", () =>
    fc.assert(
      fc.property(
        member,
        fc.array(score, { maxLength: 3 }),
        fc.integer({ min: 0, max: 2 }),
        (parent, rewards, copies) => {
          const children: Array<ScoredChild> = rewards.map((reward, i) => ({
            parent,
            prompt: `c${i}`,
            reward
          }))
          const beam = nextBeam([{ parent, children, parentCopies: copies }], 10, false)
          const nodes = rewards.length + copies === 0 ? 1 : rewards.length + copies
          assert.strictEqual(beam.length, nodes)
          for (const [i, r] of rewards.entries())
            assert.strictEqual(beam.filter((m) => m.prompt === `c${i}`).length, r > 0 ? 1 : 0)
          const copiesIn = beam.filter((m) => m.prompt === parent.prompt && m.score === parent.score).length
          assert.strictEqual(copiesIn, nodes - rewards.filter((r) => r > 0).length)
        }
      )
    ))

  it("resortBeam keeps every member and orders them by J, stably", () =>
    fc.assert(
      fc.property(fc.array(member, { maxLength: 6 }), (beam) => {
        const out = resortBeam(beam)
        assert.deepStrictEqual(
          out,
          [...beam].sort((a, b) => b.score - a.score)
        )
      })
    ))
})

describe("best-so-far (bestFromBeamTop off)", () => {
  it("changes only when an offer beats it by more than 1e-6, to the first strictly highest offer", () =>
    fc.assert(
      fc.property(
        member,
        fc.array(fc.record({ member, reward: fc.option(score, { nil: undefined }) }), { maxLength: 4 }),
        (best, raw) => {
          const offers = raw.map((o) =>
            o.reward === undefined
              ? { member: o.member }
              : {
                  member: o.member,
                  child: { parent: o.member, prompt: `${o.member.prompt}+`, reward: o.reward }
                }
          )
          const out = updateBest(best, offers)
          const values = offers.map((o) => o.member.score + Math.max(0, o.child?.reward ?? 0))
          const top = Math.max(best.score, ...values)
          if (top > best.score + BEST_MARGIN) {
            const i = values.findIndex((v) => v === top)
            assert.strictEqual(out.setBy, i)
            assert.strictEqual(out.best.score, top)
            const o = offers[i]!
            assert.strictEqual(
              out.best.prompt,
              o.child && o.child.reward > 0 ? o.child.prompt : o.member.prompt
            )
          } else {
            assert.deepStrictEqual(out, { best })
          }
        }
      )
    ))

  it("a gain within the margin does not count", () => {
    const best = { prompt: "a", score: 0.3 }
    const out = updateBest(best, [{ member: { prompt: "b", score: 0.3 + BEST_MARGIN / 2 } }])
    assert.deepStrictEqual(out, { best })
  })

  it("localBest is the highest reward > 0, the earliest on ties", () =>
    fc.assert(
      fc.property(fc.array(score, { maxLength: 4 }), (rewards) => {
        const parent = { prompt: "p", score: 0 }
        const children = rewards.map((reward, i) => ({ parent, prompt: `c${i}`, reward }))
        const best = localBest(children)
        const max = Math.max(...rewards.filter((r) => r > 0))
        if (rewards.every((r) => r <= 0)) assert.isUndefined(best)
        else assert.strictEqual(best!.prompt, `c${rewards.indexOf(max)}`)
      })
    ))
})

describe("released case ranking (casesFromAllChildren off)", () => {
  it("misaligned items only; both-lose, then lookahead-lose, then global-lose; batch order within; at most k", () =>
    fc.assert(
      fc.property(verdicts, fc.integer({ min: 0, max: 5 }), (vs, k) => {
        const out = releasedCases(vs, k)
        const misaligned = vs.filter(isMisaligned)
        assert.strictEqual(out.length, Math.min(k, misaligned.length))
        const cls = (v: ItemVerdict) => (v.lookahead === 0 && v.global === 0 ? 0 : v.lookahead === 0 ? 1 : 2)
        for (let i = 1; i < out.length; i++) {
          const a = out[i - 1]!
          const b = out[i]!
          assert.isAtMost(cls(a), cls(b))
          if (cls(a) === cls(b)) assert.isBelow(vs.indexOf(a), vs.indexOf(b))
        }
        // Nothing left out ranks before the last one kept.
        const last = out[out.length - 1]
        if (last) for (const v of misaligned) if (!out.includes(v)) assert.isAtLeast(cls(v), cls(last))
      })
    ))
})

describe("score formula (renormalizeWeights off)", () => {
  const weights = { local: 0.4, lookahead: 0.4, global: 0.2 }
  const rate = fc.integer({ min: 0, max: 10 }).map((n) => n / 10)
  it("0.4/0.4/0.2 with lookahead, else 0.7 local + 0.3 global, minus 0.5", () =>
    fc.assert(
      fc.property(rate, fc.option(rate, { nil: undefined }), rate, (local, lookahead, global) => {
        const levels = { local, global, ...(lookahead !== undefined ? { lookahead } : {}) }
        const r = weightedReward(levels, weights, false)
        const expected =
          lookahead !== undefined
            ? 0.4 * local + 0.4 * lookahead + 0.2 * global - 0.5
            : FALLBACK_WEIGHTS.local * local + FALLBACK_WEIGHTS.global * global - 0.5
        assert.closeTo(r, expected, 1e-12)
        // maspo renormalises instead: 0.4/0.2 becomes 2/3 and 1/3.
        if (lookahead === undefined)
          assert.closeTo(weightedReward(levels, weights), (0.4 * local + 0.2 * global) / 0.6 - 0.5, 1e-12)
      })
    ))
  it("a one-level score (terminal, local-only) is its win rate minus 0.5 either way", () =>
    fc.assert(
      fc.property(rate, (g) => {
        const terminal = { local: 0, lookahead: 0, global: 1 }
        assert.closeTo(weightedReward({ global: g }, terminal, false), g - 0.5, 1e-12)
        assert.closeTo(weightedReward({ global: g }, terminal, true), g - 0.5, 1e-12)
      })
    ))
})

describe("released brace rule (latexAwareSlots off)", () => {
  it("any brace expression other than the slots, digits or empty falls back; slots are restored", () => {
    const parent = "Solve {question} with {context}"
    assert.deepStrictEqual(releasedSanitize("Use \\boxed{x}. {question} {context}", parent), {
      ok: false,
      reason: "brace expression {x}"
    })
    assert.deepStrictEqual(releasedSanitize("A {{question}} {context}", parent), {
      ok: true,
      prompt: "A {question} {context}"
    })
    assert.deepStrictEqual(releasedSanitize("Only text", parent), {
      ok: true,
      prompt: "Only text\n\nQuestion:\n{question}\n\nContext:\n{context}"
    })
    assert.deepStrictEqual(releasedSanitize("Only text", "No context {question}"), {
      ok: true,
      prompt: "Only text\n\nQuestion:\n{question}"
    })
    assert.isFalse(releasedSanitize("{question} {question}", parent).ok)
  })
  it("the result always holds {question} exactly once, or the proposal falls back", () =>
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z {}]{0,30}$/), (text) => {
        const out = releasedSanitize(text, "{question} {context}")
        if (out.ok) assert.strictEqual(out.prompt.split("{question}").length - 1, 1)
      })
    ))
})
