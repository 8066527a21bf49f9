import { assert, describe, it } from "@effect/vitest"
import { maspoDefaults, paperDefaults } from "@maspo/core"
import { Effect } from "effect"
import {
  callsOf,
  compareSaving,
  decisions,
  runWorld,
  SCRIPTED_WORLD,
  SIM_WORLD
} from "../../../bench/callSaving.ts"

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1)

describe("the call-saving rules change no decision (acceptance)", () => {
  it.effect(
    "simulator, maspo preset: 20 seeded runs take the same decisions with fewer judge calls",
    () =>
      Effect.gen(function* () {
        let saving = 0
        let paper = 0
        let plain = 0
        for (const seed of SEEDS) {
          const on = yield* runWorld(SIM_WORLD, maspoDefaults, seed, true)
          const off = yield* runWorld(SIM_WORLD, maspoDefaults, seed, false)
          assert.deepStrictEqual(decisions(on.state), decisions(off.state), `seed ${seed}`)
          assert.deepStrictEqual(on.state.prompts, off.state.prompts)
          assert.isBelow(callsOf(on.state).evaluator, callsOf(off.state).evaluator, `seed ${seed}`)
          assert.strictEqual(callsOf(on.state).agent, callsOf(off.state).agent)
          assert.isAbove(on.saved.memo + on.saved.identical, 0)
          saving += callsOf(on.state).evaluator
          plain += callsOf(off.state).evaluator
          paper += callsOf((yield* runWorld(SIM_WORLD, paperDefaults, seed, true)).state).evaluator
        }
        assert.isBelow(saving, plain)
        // The target: at most 60% of the released algorithm's evaluator calls (the paper
        // preset run on the same seeds).
        assert.isAtMost(saving, 0.6 * paper)
      }),
    600_000
  )

  it.effect(
    "simulator, paper preset with the judge memo (one order per comparison): the memo changes no decision",
    () =>
      Effect.gen(function* () {
        // evaluatorLayerFor turns the identical-output skip off when comparisons are asked in one order.
        const r = yield* compareSaving(SIM_WORLD, "paper", { ...paperDefaults, judgeMemo: true }, SEEDS, true)
        assert.strictEqual(r.sameDecisions, SEEDS.length)
        assert.isBelow(r.withSaving.evaluator, r.withoutSaving.evaluator)
        // Without the memo the run is the paper preset's itself.
        assert.deepStrictEqual(r.withoutSaving, r.reference)
      }),
    600_000
  )

  it.effect(
    "scripted world: 20 seeded runs take the same decisions, never with more judge calls",
    () =>
      Effect.gen(function* () {
        for (const config of [maspoDefaults, paperDefaults]) {
          const r = yield* compareSaving(SCRIPTED_WORLD, "x", config, SEEDS)
          assert.strictEqual(r.sameDecisions, SEEDS.length)
          assert.isAtMost(r.withSaving.evaluator, r.withoutSaving.evaluator)
        }
      }),
    600_000
  )
})
