import { assert, describe, it } from "@effect/vitest"
import {
  ABLATIONS,
  Budget,
  type BudgetCap,
  defaultRoleDefaults,
  initialState,
  LanguageModel,
  makeTopology,
  MasExecutor,
  maspoDefaults,
  type OptimizeInput,
  type OptimizerConfig,
  OptimizerState,
  PairwiseJudge,
  paperDefaults,
  Refiner,
  runMaspo,
  seedPrompts,
  spentOf,
  stripLabels,
  templatesLayerFor
} from "@maspo/core"
import { arithTask, generateArithItems, simClients, simSequential } from "@maspo/core/sim"
import { Effect, Layer, Schema } from "effect"
import { evaluatorLayerFor } from "../src/index.ts"

/**
 * MASPO under a cap of calls and a cap of tokens on the simulator, in both presets and every
 * ablation: the used figures never exceed the cap, the completed steps are exactly those of the
 * uncapped run, and a cap as large as the uncapped run's usage changes nothing.
 */

// Small settings so every configuration runs in well under a second.
const small = (c: OptimizerConfig): OptimizerConfig => ({
  ...c,
  beamWidth: 2,
  childrenPerParent: 1,
  stepsPerVisit: 1,
  rounds: 2,
  batchSize: 3,
  poolSize: 6
})

const CONFIGS: ReadonlyArray<readonly [string, OptimizerConfig]> = [
  ["maspo preset", small(maspoDefaults)],
  ["paper preset", small(paperDefaults)],
  ...Object.entries(ABLATIONS)
    .filter(([name]) => name !== "full")
    .map(([name, f]) => [`ablation ${name}`, small(f(maspoDefaults))] as const)
]

const layerFor = (config: OptimizerConfig, seed: number) =>
  evaluatorLayerFor(config, seed).pipe(
    Layer.provideMerge(Layer.mergeAll(MasExecutor.layer, Refiner.layer, PairwiseJudge.layer)),
    Layer.provideMerge(LanguageModel.layer(simClients(), defaultRoleDefaults(seed))),
    Layer.provideMerge(Budget.layer),
    Layer.provideMerge(templatesLayerFor(config))
  )

const inputFor = (config: OptimizerConfig, cap: BudgetCap, seed = 2) =>
  Effect.gen(function* () {
    const topology = yield* makeTopology(simSequential)
    const input: OptimizeInput = {
      topology,
      task: arithTask,
      pool: stripLabels(generateArithItems(seed, config.poolSize, "pool")),
      prompts: seedPrompts(topology),
      config,
      seed,
      concurrency: 4,
      cap
    }
    return input
  })

/** Runs MASPO in a fresh world; gives the final state and the Budget's report afterwards. */
const run = (config: OptimizerConfig, cap: BudgetCap, start?: OptimizerState, stopAfter?: number) =>
  Effect.gen(function* () {
    const input = yield* inputFor(config, cap)
    const state = yield* runMaspo(
      input,
      start ?? initialState(input),
      stopAfter === undefined ? {} : { stopAfter }
    )
    return { state, used: spentOf(yield* (yield* Budget).report) }
  }).pipe(Effect.provide(layerFor(config, 2)))

describe("MASPO under a budget cap (simulator)", () => {
  for (const [name, config] of CONFIGS) {
    it.effect(
      `${name}: caps of calls and of tokens are never exceeded; completed steps are the uncapped run's`,
      () =>
        Effect.gen(function* () {
          const free = yield* run(config, {})
          assert.isUndefined(free.state.stopped)
          const steps = free.state.log.length
          assert.isAbove(steps, 2)
          for (const cap of [
            { maxCalls: Math.floor(free.used.calls * 0.55) },
            { maxTokens: Math.floor(free.used.tokens * 0.55) },
            { maxCalls: Math.floor(free.used.calls * 0.8), maxTokens: Math.floor(free.used.tokens * 0.7) }
          ]) {
            const capped = yield* run(config, cap)
            assert.strictEqual(capped.state.stopped, "budget")
            if (cap.maxCalls !== undefined) assert.isAtMost(capped.used.calls, cap.maxCalls)
            if (cap.maxTokens !== undefined) assert.isAtMost(capped.used.tokens, cap.maxTokens)
            assert.deepStrictEqual(spentOf(capped.state.budget), capped.used)
            // Everything kept is complete work: the same steps as the uncapped run, then nothing.
            const kept = capped.state.log.length
            assert.isBelow(kept, steps)
            assert.deepStrictEqual(capped.state.log, free.state.log.slice(0, kept))
            const prefix = yield* run(config, {}, undefined, kept)
            assert.deepStrictEqual(capped.state.prompts, prefix.state.prompts)
            // The discarded step's calls are counted.
            assert.isAtLeast(capped.used.calls, prefix.used.calls)
          }
          // A cap exactly as large as the uncapped usage changes nothing (the simulator's bound is exact).
          const roomy = yield* run(config, { maxCalls: free.used.calls, maxTokens: free.used.tokens })
          assert.deepStrictEqual(roomy.state, free.state)
          assert.deepStrictEqual(roomy.used, free.used)
        })
    )
  }

  it.effect("the same seed and cap give the same prompts and the same used calls and tokens", () =>
    Effect.gen(function* () {
      const config = small(maspoDefaults)
      const cap = { maxTokens: 9000 }
      const a = yield* run(config, cap)
      const b = yield* run(config, cap)
      assert.strictEqual(a.state.stopped, "budget")
      assert.deepStrictEqual(a.state, b.state)
      assert.deepStrictEqual(a.used, b.used)
    })
  )

  for (const killAt of [1, 2]) {
    it.effect(`a capped run killed after ${killAt} steps and resumed ends as the uninterrupted one`, () =>
      Effect.gen(function* () {
        const config = small(maspoDefaults)
        const free = yield* run(config, {})
        const cap = { maxCalls: Math.floor(free.used.calls * 0.6) }
        const whole = yield* run(config, cap)
        assert.strictEqual(whole.state.stopped, "budget")
        assert.isAbove(whole.state.log.length, killAt)
        const partial = yield* run(config, cap, undefined, killAt)
        // The checkpoint goes through JSON and the Schema, as it does on disk.
        const json = JSON.stringify(Schema.encodeSync(OptimizerState)(partial.state))
        const restored = Schema.decodeUnknownSync(OptimizerState)(JSON.parse(json))
        const resumed = yield* run(config, cap, restored)
        assert.deepStrictEqual(resumed.state, whole.state)
        assert.deepStrictEqual(resumed.used, whole.used)
        // A run resumed from the checkpoint written at the stop ends at once, with the same figures.
        const again = yield* run(config, cap, whole.state)
        assert.deepStrictEqual(again.state, whole.state)
        assert.deepStrictEqual(again.used, whole.used)
      })
    )
  }
})
