import { assert, describe, it } from "@effect/vitest"
import {
  Budget,
  initialState,
  type OptimizeInput,
  OptimizerState,
  maspoDefaults,
  type OptimizerConfig,
  runMaspo,
  seedPrompts,
  totalTally
} from "@maspo/core"
import { Effect, Schema } from "effect"
import { chainTopology, items, preferHigherSaw, task, worldLayer } from "./scriptedWorld.ts"

const searchRules: OptimizerConfig = { ...maspoDefaults, judgePosition: "seeded-coin" }

const inputFor = Effect.gen(function* () {
  const topology = yield* chainTopology
  const input: OptimizeInput = {
    topology,
    task,
    pool: items,
    prompts: seedPrompts(topology),
    // maspo's search rules (shared batch, cases from every child) under this file's one-order judge;
    // the released rules are pinned in paperPreset.test.ts and switches.test.ts.
    config: searchRules,
    seed: 7,
    concurrency: 4
  }
  return input
})

describe("MASPO search with scripted LLMs", () => {
  it.effect("makes exactly the expected LLM calls per step", () =>
    Effect.gen(function* () {
      const input = yield* inputFor
      const state = yield* runMaspo(input, initialState(input), { stopAfter: 2 })
      const [s1, s2] = state.log
      // Step 1: one parent (the seed): 10 items x 2 agents x (answer + compression) for the parent,
      // the same for each of its 2 children; 2 refiner calls; 3 comparisons (local, lookahead,
      // global) per child and item.
      assert.deepStrictEqual(
        [s1!.budget.agent.calls, s1!.budget.optimizer.calls, s1!.budget.evaluator.calls],
        [120, 2, 60]
      )
      // The local judge prefers every edit and the downstream levels favour the newer solver output,
      // so both children are accepted and the beam holds two parents for step 2.
      assert.strictEqual(s1!.beam.length, 2)
      assert.isTrue(s1!.children.every((c) => c.accepted))
      const d = (role: "agent" | "optimizer" | "evaluator") => s2!.budget[role].calls - s1!.budget[role].calls
      assert.deepStrictEqual([d("agent"), d("optimizer"), d("evaluator")], [2 * 40 + 4 * 40, 4, 4 * 30])
    }).pipe(Effect.provide(worldLayer(preferHigherSaw)))
  )

  it.effect("with position debiasing every comparison is asked in both orders", () =>
    Effect.gen(function* () {
      const input = yield* inputFor
      const state = yield* runMaspo(input, { ...initialState(input) }, { stopAfter: 1 })
      assert.strictEqual(state.log[0]!.budget.evaluator.calls, 120)
    }).pipe(Effect.provide(worldLayer(preferHigherSaw, { debiasPosition: true })))
  )

  it.effect("the terminal agent is scored by the global comparison alone", () =>
    Effect.gen(function* () {
      const input = yield* inputFor
      const start = { ...initialState(input), cursor: 3 } // the reviewer's first step
      const state = yield* runMaspo(input, start, { stopAfter: 1 })
      const step = state.log[0]!
      assert.strictEqual(step.agentId, "reviewer")
      // Parent: full run (40 calls); each child re-runs only the reviewer (10 x 2 calls).
      assert.deepStrictEqual([step.budget.agent.calls, step.budget.evaluator.calls], [40 + 2 * 20, 2 * 10])
      assert.isTrue(
        step.children.every(
          (c) => c.local === undefined && c.lookahead === undefined && c.global !== undefined
        )
      )
    }).pipe(Effect.provide(worldLayer(preferHigherSaw)))
  )

  it.effect(
    "misalignment cases (local win, downstream loss) are injected into the successor's next batch",
    () =>
      Effect.gen(function* () {
        const input = yield* inputFor
        // Downstream, odd items prefer the older solver output: there the newer solver loses after winning locally.
        const state = yield* runMaspo(input, initialState(input), { stopAfter: 4 })
        const solverSteps = state.log.slice(0, 3)
        for (const s of solverSteps) {
          const odd = s.batch.filter((id) => Number(id.slice(1)) % 2 === 1).length
          assert.closeTo(s.misalignmentRate, odd / s.batch.length, 1e-12)
        }
        const kept = state.agents.solver!.cases
        assert.strictEqual(kept.length, 3)
        assert.isTrue(kept.every((c) => c.severity === 2 && Number(c.itemId.slice(1)) % 2 === 1))
        const reviewerStep = state.log[3]!
        assert.strictEqual(reviewerStep.agentId, "reviewer")
        assert.deepStrictEqual(
          reviewerStep.injected,
          kept.map((c) => c.itemId)
        )
        assert.deepStrictEqual(
          reviewerStep.batch.slice(0, 3),
          kept.map((c) => c.itemId)
        )
        assert.strictEqual(new Set(reviewerStep.batch).size, 10)
      }).pipe(
        Effect.provide(
          worldLayer((i, a, b) => {
            const sa = Number(/saw=(\d+)/.exec(a)?.[1])
            const sb = Number(/saw=(\d+)/.exec(b)?.[1])
            return (i % 2 === 1) === sa <= sb ? "A" : "B"
          })
        )
      )
  )

  it.effect("random sampling injects nothing", () =>
    Effect.gen(function* () {
      const input = { ...(yield* inputFor), config: { ...searchRules, caseSampling: "random" as const } }
      const state = yield* runMaspo(input, initialState(input), { stopAfter: 4 })
      assert.deepStrictEqual(state.log[3]!.injected, [])
    }).pipe(Effect.provide(worldLayer(preferHigherSaw)))
  )

  for (const killAt of [1, 6, 13]) {
    it.effect(`a run stopped after ${killAt} steps and resumed from its checkpoint ends identically`, () =>
      Effect.gen(function* () {
        const input = yield* inputFor
        const full = yield* runMaspo(input, initialState(input)).pipe(
          Effect.provide(worldLayer(preferHigherSaw))
        )
        const partial = yield* runMaspo(input, initialState(input), { stopAfter: killAt }).pipe(
          Effect.provide(worldLayer(preferHigherSaw))
        )
        // The checkpoint goes through JSON and the Schema, as it does on disk.
        const json = JSON.stringify(Schema.encodeSync(OptimizerState)(partial))
        const restored = Schema.decodeUnknownSync(OptimizerState)(JSON.parse(json))
        const resumed = yield* Effect.gen(function* () {
          const s = yield* runMaspo(input, restored)
          return { s, report: yield* (yield* Budget).report }
        }).pipe(Effect.provide(worldLayer(preferHigherSaw)))
        assert.deepStrictEqual(resumed.s.prompts, full.prompts)
        assert.deepStrictEqual(totalTally(resumed.report), totalTally(full.budget))
        assert.deepStrictEqual(resumed.s.log, full.log)
        assert.strictEqual(full.log.length, 22)
      })
    )
  }
})
