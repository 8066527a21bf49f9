import { assert, describe, it } from "@effect/vitest"
import { Budget, makeTopology, parsePairwiseRequest, type TaskItem } from "@maspo/core"
import { Effect } from "effect"
import * as fc from "fast-check"
import type { BaselineInput } from "../src/optimizers/contract.ts"
import {
  defaultSpoOptions,
  meanPreference,
  runSpo,
  type SpoOptions,
  spoAccepts,
  spoRound
} from "../src/optimizers/spo.ts"
import {
  assertSeedDecides,
  assertStoppedBeforeWork,
  assertValidSimPrompts,
  assertWithinCap,
  callsByRole,
  chain,
  chainInput,
  editWorld,
  gen,
  genOf,
  type LocalRule,
  preferNewer,
  preferOlder,
  questionItems,
  runOnSimulator,
  scriptedTask,
  type SeenRequest,
  totalCalls
} from "./baselineTesting.ts"

// The edit-counting world of baselineTesting.ts: an agent's output shows how many edits its prompt
// has (`g=N`); the local judge follows a rule on those numbers.

const small: SpoOptions = { rounds: 1, stepsPerVisit: 1, batchSize: 4, debiasPosition: false }

const inputFor = (pool: ReadonlyArray<TaskItem>, overrides: Partial<BaselineInput> = {}) =>
  chainInput(scriptedTask, pool, 7, overrides)

describe("SPO-style per-agent optimizer: pure parts", () => {
  it("the mean preference lies in [0, 1] and acceptance is a strict majority of preference mass", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(0, 0.5, 1), { maxLength: 30 }), (prefs) => {
        const m = meanPreference(prefs)
        assert.isTrue(m >= 0 && m <= 1)
        const sum = prefs.reduce((a: number, b) => a + b, 0)
        assert.strictEqual(spoAccepts(prefs), prefs.length > 0 && sum * 2 > prefs.length)
        // Ties never tip the balance.
        assert.strictEqual(spoAccepts([...prefs, 0.5, 0.5]), spoAccepts(prefs))
      })
    )
    assert.isFalse(spoAccepts([]))
    assert.isFalse(spoAccepts([1, 0]))
  })

  it.effect("a round visits agents in topological order, stepsPerVisit steps each", () =>
    Effect.gen(function* () {
      const topology = yield* makeTopology(chain)
      fc.assert(
        fc.property(fc.nat(20), fc.nat(5), (round, steps) => {
          const visits = spoRound(topology, round, { ...defaultSpoOptions, stepsPerVisit: steps })
          assert.strictEqual(visits.length, 2 * steps)
          assert.deepStrictEqual(
            visits.map((v) => v.agentId),
            [...Array(steps).fill("solver"), ...Array(steps).fill("reviewer")]
          )
          assert.isTrue(visits.every((v, i) => v.round === round && v.step === i % steps))
        })
      )
    })
  )
})

describe("SPO-style per-agent optimizer with scripted LLMs", () => {
  it.effect("makes exactly the expected calls, and accepted prompts are published at once", () =>
    Effect.gen(function* () {
      const seen: Array<SeenRequest> = []
      yield* Effect.gen(function* () {
        const input = yield* inputFor(questionItems(20))
        const result = yield* runSpo(input, small)
        // Solver step: system run (4 items x 2 agents x answer + compression = 16), 1 refine call,
        // re-run of solver and reviewer (16), 4 local comparisons. Reviewer step: 16 + 1 + 8 + 4.
        assert.deepStrictEqual(yield* callsByRole, [16 + 16 + 16 + 8, 2, 8])
        assert.strictEqual(result.stoppedBy, "schedule")
        assert.deepStrictEqual(
          result.log.map((s) => [s.kind, s.agentId, s.candidates.length, s.candidates[0]!.accepted]),
          [
            ["step", "solver", 1, true],
            ["step", "reviewer", 1, true]
          ]
        )
        assert.strictEqual(result.log[0]!.candidates[0]!.score, 1)
        assert.include(result.prompts.solver!, "[edit ")
        assert.include(result.prompts.reviewer!, "[edit ")
        assert.deepStrictEqual(result.log[1]!.best, result.prompts)
        assert.deepStrictEqual(result.log[0]!.budget.agent.calls, 16 + 16)
        // Only local comparisons are asked.
        const judged = seen.filter((s) => s.role === "evaluator").map((s) => parsePairwiseRequest(s.content)!)
        assert.isTrue(judged.every((p) => p.level === "local"))
        // The reviewer's step ran the system with the solver's accepted prompt (published at once).
        const reviewerRun = seen.filter((s) => s.role === "agent" && s.content.startsWith("Solve."))
        assert.isTrue(reviewerRun.slice(8).every((s) => gen(s.content) === 1))
      }).pipe(Effect.provide(editWorld(preferNewer, seen)))
    })
  )

  it.effect("with position debiasing each comparison is asked in both orders", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(questionItems(20))
      yield* runSpo(input, { ...small, debiasPosition: true })
      assert.deepStrictEqual(yield* callsByRole, [56, 2, 16])
    }).pipe(Effect.provide(editWorld(preferNewer)))
  )

  it.effect("a candidate the judge does not prefer is rejected and the prompts stay", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(questionItems(20))
      const result = yield* runSpo(input, { ...small, stepsPerVisit: 2 })
      assert.deepStrictEqual(result.prompts, input.prompts)
      assert.isTrue(result.log.every((s) => s.candidates.every((c) => !c.accepted && c.score === 0)))
    }).pipe(Effect.provide(editWorld(preferOlder)))
  )

  it.effect("acceptance needs a mean strictly above 0.5", () =>
    Effect.gen(function* () {
      // The batch is the whole 4-item pool. Items 0 and 1 prefer the candidate, 2 and 3 the reference.
      const half: LocalRule = (i, a, b) => (i < 2 === genOf(a) > genOf(b) ? "A" : "B")
      const r1 = yield* Effect.gen(function* () {
        return yield* runSpo(yield* inputFor(questionItems(4)), small)
      }).pipe(Effect.provide(editWorld(half)))
      assert.deepStrictEqual(
        r1.log.map((s) => [s.candidates[0]!.score, s.candidates[0]!.accepted]),
        [
          [0.5, false],
          [0.5, false]
        ]
      )
      // Items 0-2 prefer the candidate: 0.75.
      const most: LocalRule = (i, a, b) => (i < 3 === genOf(a) > genOf(b) ? "A" : "B")
      const r2 = yield* Effect.gen(function* () {
        return yield* runSpo(yield* inputFor(questionItems(4)), small)
      }).pipe(Effect.provide(editWorld(most)))
      assert.deepStrictEqual(
        r2.log.map((s) => [s.candidates[0]!.score, s.candidates[0]!.accepted]),
        [
          [0.75, true],
          [0.75, true]
        ]
      )
      // All ties: 0.5, rejected.
      const r3 = yield* Effect.gen(function* () {
        return yield* runSpo(yield* inputFor(questionItems(4)), small)
      }).pipe(Effect.provide(editWorld(() => "tie")))
      assert.isTrue(r3.log.every((s) => s.candidates[0]!.score === 0.5 && !s.candidates[0]!.accepted))
    })
  )

  it.effect("the same seed gives the same result; another seed draws other batches", () =>
    assertSeedDecides((seed) =>
      Effect.gen(function* () {
        const result = yield* runSpo(yield* inputFor(questionItems(30), { seed }), {
          ...small,
          stepsPerVisit: 2
        })
        return { result, report: yield* (yield* Budget).report }
      }).pipe(Effect.provide(editWorld(preferNewer)))
    )
  )

  it.effect("a call cap keeps cycling rounds and stops within one step of the cap", () =>
    Effect.gen(function* () {
      const cap = 300
      const input = yield* inputFor(questionItems(20), { cap: { maxCalls: cap } })
      const result = yield* runSpo(input, small)
      const total = yield* totalCalls
      assert.strictEqual(result.stoppedBy, "budget")
      // One round is 2 steps; the cap makes it go on for more rounds.
      assert.isAbove(result.log.length, 2)
      // The most expensive step is the solver's: 16 + 1 + 16 + 4 = 37 calls.
      assertWithinCap(total, cap, 37)
      assert.deepStrictEqual(result.log[result.log.length - 1]!.best, result.prompts)
    }).pipe(Effect.provide(editWorld(preferNewer)))
  )

  it.effect("a cap already reached stops before any work and returns the seed prompts", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(questionItems(20), { cap: { maxTokens: 0 } })
      const result = yield* runSpo(input, small)
      yield* assertStoppedBeforeWork(input, result)
      assert.deepStrictEqual(result.log, [])
    }).pipe(Effect.provide(editWorld(preferNewer)))
  )
})

describe("SPO-style per-agent optimizer on the embedded simulator", () => {
  it.effect(
    "the default schedule finishes and returns a valid prompt set",
    () =>
      Effect.gen(function* () {
        const { result, total } = yield* runOnSimulator(5, (input) => runSpo(input, defaultSpoOptions))
        assert.strictEqual(result.stoppedBy, "schedule")
        assert.strictEqual(result.log.length, 3 * 2 * 6)
        assertValidSimPrompts(result.prompts, ["{question}", "{context}"])
        assert.isTrue(total > 1000 && total < 4000, `${total} calls`)
      }),
    30_000
  )
})
