import { assert, describe, it } from "@effect/vitest"
import {
  type Budget,
  type BudgetCap,
  type InputError,
  type LanguageModelError,
  makeTopology,
  type MasExecutor,
  type PairwiseJudge,
  type Refiner,
  seedPrompts,
  spentOf
} from "@maspo/core"
import { simSequential } from "@maspo/core/sim"
import { Effect } from "effect"
import {
  type BaselineInput,
  type BaselineResult,
  defaultTpeOptions,
  runApe,
  runGepa,
  runSpo,
  runTpe
} from "../src/index.ts"
import { runOnSimulator } from "./baselineTesting.ts"

/**
 * Every comparison optimizer under a cap of calls and a cap of tokens on the simulator (small
 * settings): the used figures never exceed the cap, what the run keeps is complete work (the steps
 * of a run with more budget, and the best prompts of those steps), and a cap exactly as large as a
 * run's usage changes nothing (the simulator's token bound is exact, so no call is refused early).
 */

type Runner = (
  input: BaselineInput
) => Effect.Effect<
  BaselineResult,
  LanguageModelError | InputError,
  Budget | MasExecutor | Refiner | PairwiseJudge
>

const METHODS: ReadonlyArray<{
  readonly name: string
  readonly run: Runner
  /** The reference run's cap: a method that spends whatever cap it gets (SPO) needs a finite one. */
  readonly reference: BudgetCap
}> = [
  {
    name: "spo",
    run: (input) => runSpo(input, { rounds: 1, stepsPerVisit: 1, batchSize: 3, debiasPosition: true }),
    reference: { maxCalls: 400 }
  },
  {
    name: "ape",
    run: (input) =>
      runApe(input, {
        evalBatchSize: 3,
        candidates: 2,
        topK: 1,
        iterations: 1,
        proposalsPerTop: 1,
        debiasPosition: true
      }),
    reference: {}
  },
  {
    name: "tpe",
    run: (input) =>
      runTpe(input, {
        ...defaultTpeOptions,
        candidatesPerAgent: 2,
        proposalBatch: 3,
        evalItems: 3,
        trials: 6,
        maxDuplicateStreak: 3
      }),
    // Under a cap TPE runs until the search space or its duplicate streak ends it.
    reference: { maxCalls: 1_000_000_000 }
  },
  {
    name: "gepa",
    run: (input) => runGepa(input, { valSize: 3, minibatchSize: 2, maxMetricCalls: 40 }),
    reference: {}
  }
]

const SEED = 3

const runWith = (method: (typeof METHODS)[number], cap: BudgetCap) =>
  Effect.map(
    runOnSimulator(SEED, (input) => method.run({ ...input, concurrency: 4, cap })),
    ({ result, report }) => ({ result, used: spentOf(report) })
  )

/** What a run keeps is its completed steps' best: the last step's `best`, or the seed prompts. */
const assertKeepsCompletedWork = (result: BaselineResult, seedPrompts: BaselineInput["prompts"]) => {
  const last = result.log[result.log.length - 1]
  assert.deepStrictEqual(result.prompts, last?.best ?? seedPrompts)
}

describe("comparison optimizers under a budget cap (simulator)", () => {
  for (const method of METHODS) {
    it.effect(
      `${method.name}: caps of calls and of tokens are never exceeded, and a cap as large as the usage changes nothing`,
      () =>
        Effect.gen(function* () {
          const reference = yield* runWith(method, method.reference)
          const { calls, tokens } = reference.used
          assert.isAbove(reference.result.log.length, 2)
          const seeds = seedPrompts(yield* makeTopology(simSequential))

          for (const cap of [
            { maxCalls: Math.floor(calls * 0.5) },
            { maxTokens: Math.floor(tokens * 0.5) },
            { maxCalls: Math.floor(calls * 0.7), maxTokens: Math.floor(tokens * 0.6) }
          ]) {
            const capped = yield* runWith(method, cap)
            assert.strictEqual(capped.result.stoppedBy, "budget")
            if (cap.maxCalls !== undefined) assert.isAtMost(capped.used.calls, cap.maxCalls)
            if (cap.maxTokens !== undefined) assert.isAtMost(capped.used.tokens, cap.maxTokens)
            // The steps before the last are the reference run's (the last may hold a generation or
            // a proposal stage the cap cut short, with only its completed candidates).
            const kept = capped.result.log.length
            assert.isBelow(kept, reference.result.log.length + 1)
            assert.deepStrictEqual(
              capped.result.log.slice(0, Math.max(0, kept - 1)),
              reference.result.log.slice(0, Math.max(0, kept - 1))
            )
            assertKeepsCompletedWork(capped.result, seeds)
          }

          const exact = yield* runWith(method, { maxCalls: calls, maxTokens: tokens })
          assert.deepStrictEqual(exact.result, reference.result)
          assert.deepStrictEqual(exact.used, reference.used)
        }),
      60_000
    )
  }

  it.effect("a cap already spent makes no call, for every method", () =>
    Effect.gen(function* () {
      for (const method of METHODS) {
        for (const cap of [{ maxCalls: 0 }, { maxTokens: 0 }]) {
          const run = yield* runWith(method, cap)
          assert.strictEqual(run.result.stoppedBy, "budget", method.name)
          assert.deepStrictEqual(run.used, { calls: 0, tokens: 0 }, method.name)
          assert.deepStrictEqual(run.result.log, [], method.name)
        }
      }
    })
  )
})
