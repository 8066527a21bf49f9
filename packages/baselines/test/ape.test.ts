import { assert, describe, it } from "@effect/vitest"
import { Budget, parsePairwiseRequest, parseRefineRequest, type TaskItem } from "@maspo/core"
import { Effect } from "effect"
import * as fc from "fast-check"
import type { BaselineInput } from "../src/optimizers/contract.ts"
import {
  type ApeOptions,
  bestScored,
  defaultApeOptions,
  runApe,
  type ScoredPrompt,
  selectTopK
} from "../src/optimizers/ape.ts"
import {
  assertSeedDecides,
  assertStoppedBeforeWork,
  assertValidSimPrompts,
  assertWithinCap,
  callsByRole,
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

const small: ApeOptions = {
  evalBatchSize: 4,
  candidates: 2,
  topK: 1,
  iterations: 1,
  proposalsPerTop: 2,
  debiasPosition: false
}

const inputFor = (pool: ReadonlyArray<TaskItem>, overrides: Partial<BaselineInput> = {}) =>
  chainInput(scriptedTask, pool, 7, overrides)

/** The response with more edits wins on items below 2 x its edit count, loses on the others. */
const graded: LocalRule = (i, a, b) => {
  const [ga, gb] = [genOf(a), genOf(b)]
  const more = ga >= gb ? "A" : "B"
  const less = ga >= gb ? "B" : "A"
  return i < 2 * Math.max(ga, gb) ? more : less
}

const scoredArb = fc
  .array(fc.record({ prompt: fc.string({ maxLength: 3 }), score: fc.constantFrom(0, 0.25, 0.5, 0.75, 1) }), {
    maxLength: 12
  })
  .map((xs): Array<ScoredPrompt> => xs.map((x, order) => ({ ...x, order })))

describe("APE/OPRO-style per-agent optimizer: pure parts", () => {
  it("top-k keeps the k best, ties to the earlier scored, without touching its input", () => {
    fc.assert(
      fc.property(scoredArb, fc.nat(6), (scored, k) => {
        const copy = scored.slice()
        const top = selectTopK(scored, k)
        assert.deepStrictEqual(scored, copy)
        assert.strictEqual(top.length, Math.min(k, scored.length))
        for (let i = 1; i < top.length; i++) {
          const [p, q] = [top[i - 1]!, top[i]!]
          assert.isTrue(p.score > q.score || (p.score === q.score && p.order < q.order))
        }
        const last = top[top.length - 1]
        if (last !== undefined) {
          for (const s of scored.filter((s) => !top.includes(s))) {
            assert.isTrue(s.score < last.score || (s.score === last.score && s.order > last.order))
          }
        }
        // Keeping the top-k of the top-k plus new entries is the top-k of everything.
        const more = scored.map((s) => ({ ...s, order: s.order + scored.length }))
        assert.deepStrictEqual(
          selectTopK([...selectTopK(scored, k), ...more], k),
          selectTopK([...scored, ...more], k)
        )
      })
    )
  })

  it("the best is the earliest of the highest scored", () => {
    fc.assert(
      fc.property(scoredArb, (scored) => {
        const best = bestScored(scored)
        if (scored.length === 0) return assert.isUndefined(best)
        const max = Math.max(...scored.map((s) => s.score))
        assert.strictEqual(
          best,
          scored.find((s) => s.score === max)
        )
      })
    )
  })
})

describe("APE/OPRO-style per-agent optimizer with scripted LLMs", () => {
  it.effect("makes exactly the expected calls; the seed scores 0.5 and is the reference", () =>
    Effect.gen(function* () {
      const seen: Array<SeenRequest> = []
      yield* Effect.gen(function* () {
        const input = yield* inputFor(questionItems(20))
        const result = yield* runApe(input, small)
        // Solver: reference run (4 items x 2 agents x answer + compression = 16); 2 + 2 candidates,
        // each a re-run of solver and reviewer (16) and 4 comparisons; 2 + 2 refine calls.
        // Reviewer: 16; 4 candidates re-running the reviewer only (8) and 4 comparisons; 4 refine calls.
        assert.deepStrictEqual(yield* callsByRole, [16 + 4 * 16 + 16 + 4 * 8, 8, 32])
        assert.strictEqual(result.stoppedBy, "schedule")
        assert.deepStrictEqual(
          result.log.map((s) => [s.kind, s.agentId, s.candidates.map((c) => [c.score, c.accepted])]),
          [
            // Every edit beats the seed on every item; ties between candidates go to the earlier.
            [
              "generation",
              "solver",
              [
                [0.5, false],
                [1, true],
                [1, false]
              ]
            ],
            [
              "generation",
              "solver",
              [
                [1, false],
                [1, false]
              ]
            ],
            [
              "generation",
              "reviewer",
              [
                [0.5, false],
                [1, true],
                [1, false]
              ]
            ],
            [
              "generation",
              "reviewer",
              [
                [1, false],
                [1, false]
              ]
            ]
          ]
        )
        assert.strictEqual(result.log[0]!.candidates[0]!.prompt, input.prompts.solver)
        assert.strictEqual(result.prompts.solver, result.log[0]!.candidates[1]!.prompt)
        assert.strictEqual(result.prompts.reviewer, result.log[2]!.candidates[1]!.prompt)
        assert.deepStrictEqual(result.log[3]!.best, result.prompts)
        // The reviewer was optimized with the solver's chosen prompt in place.
        const reviewerRuns = seen
          .filter((s) => s.role === "agent" && s.content.startsWith("Solve."))
          .slice(-4)
        assert.isTrue(reviewerRuns.every((s) => gen(s.content) === 1))
        // Only local comparisons, always against the seed prompt's outputs (g=0).
        const judged = seen.filter((s) => s.role === "evaluator").map((s) => parsePairwiseRequest(s.content)!)
        assert.isTrue(judged.every((p) => p.level === "local" && Math.min(genOf(p.a), genOf(p.b)) === 0))
        // Iteration 1 refines the kept prompt from its own traces on the evaluation batch.
        const refines = seen.filter((s) => s.role === "optimizer").map((s) => parseRefineRequest(s.content)!)
        assert.isTrue(
          refines
            .slice(2, 4)
            .every((r) => gen(r.prompt) === 1 && r.traces.every((t) => genOf(t.output) === 1))
        )
        assert.isTrue(
          refines
            .slice(0, 2)
            .every((r) => gen(r.prompt) === 0 && r.traces.every((t) => genOf(t.output) === 0))
        )
      }).pipe(Effect.provide(editWorld(preferNewer, seen)))
    })
  )

  it.effect(
    "each iteration shows the kept prompt's traces in a fresh order, so a repeated request is new",
    () =>
      Effect.gen(function* () {
        const seen: Array<SeenRequest> = []
        yield* Effect.gen(function* () {
          const input = yield* inputFor(questionItems(20))
          // Every edit scores 1 and ties go to the earlier: the kept prompt never changes.
          yield* runApe(input, { ...small, iterations: 3, proposalsPerTop: 1 })
        }).pipe(Effect.provide(editWorld(preferNewer, seen)))
        const refines = seen
          .filter((s) => s.role === "optimizer")
          .map((s) => parseRefineRequest(s.content)!)
          .filter((r) => r.prompt.startsWith("Solve.") && gen(r.prompt) === 1)
        assert.strictEqual(refines.length, 3)
        assert.strictEqual(new Set(refines.map((r) => r.prompt)).size, 1)
        const orders = refines.map((r) => r.traces.map((t) => t.question).join("|"))
        assert.strictEqual(new Set(orders).size, 3)
        const sorted = refines.map((r) => r.traces.map((t) => t.question).sort())
        assert.deepStrictEqual(sorted[1], sorted[0])
        assert.deepStrictEqual(sorted[2], sorted[0])
      })
  )

  it.effect("with position debiasing each comparison is asked in both orders", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(questionItems(20))
      yield* runApe(input, { ...small, debiasPosition: true })
      assert.deepStrictEqual(yield* callsByRole, [16 + 4 * 16 + 16 + 4 * 8, 8, 64])
    }).pipe(Effect.provide(editWorld(preferNewer)))
  )

  it.effect("iterations from the kept prompts find better ones; ties keep the seed", () =>
    Effect.gen(function* () {
      // Pool = evaluation batch = items 0-3. One edit wins on items 0-1 (0.5, a tie with the seed);
      // two edits win on all four (1.0).
      const options: ApeOptions = { ...small, candidates: 2, topK: 2, iterations: 1, proposalsPerTop: 1 }
      const r = yield* runApe(yield* inputFor(questionItems(4)), options)
      assert.deepStrictEqual(
        r.log.filter((s) => s.agentId === "solver").map((s) => s.candidates.map((c) => c.score)),
        [
          [0.5, 0.5, 0.5],
          [0.5, 1]
        ]
      )
      assert.strictEqual(gen(r.prompts.solver!), 2)
      assert.strictEqual(gen(r.prompts.reviewer!), 2)
      // Without iterations nothing beats the seed, which wins the ties.
      const input = yield* inputFor(questionItems(4))
      const r0 = yield* runApe(input, { ...options, iterations: 0 })
      assert.deepStrictEqual(r0.prompts, input.prompts)
      assert.strictEqual(r0.log.length, 2)
    }).pipe(Effect.provide(editWorld(graded)))
  )

  it.effect("a candidate the judge does not prefer is never chosen", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(questionItems(20))
      const result = yield* runApe(input, { ...small, topK: 2 })
      assert.deepStrictEqual(result.prompts, input.prompts)
    }).pipe(Effect.provide(editWorld(preferOlder)))
  )

  it.effect("the same seed gives the same result; another seed draws another evaluation batch", () =>
    assertSeedDecides((seed) =>
      Effect.gen(function* () {
        const result = yield* runApe(yield* inputFor(questionItems(30), { seed }), small)
        return { result, report: yield* (yield* Budget).report }
      }).pipe(Effect.provide(editWorld(preferNewer)))
    )
  )

  it.effect("a call cap stops the run within one unit of work and keeps the best so far", () =>
    Effect.gen(function* () {
      for (const cap of [30, 70, 100, 150]) {
        const result = yield* Effect.gen(function* () {
          const input = yield* inputFor(questionItems(20), { cap: { maxCalls: cap } })
          const result = yield* runApe(input, small)
          const total = yield* totalCalls
          assert.strictEqual(result.stoppedBy, "budget")
          // The largest unit is a solver trial: 16 agent calls + 4 comparisons.
          assertWithinCap(total, cap, 20)
          assert.deepStrictEqual(result.log[result.log.length - 1]!.best, result.prompts)
          return result
        }).pipe(Effect.provide(editWorld(preferNewer)))
        // Once a candidate is scored, the best so far (an edit) is kept.
        if (cap >= 70) assert.strictEqual(gen(result.prompts.solver!), 1)
      }
    })
  )

  it.effect("a cap already reached stops before any work and returns the seed prompts", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(questionItems(20), { cap: { maxCalls: 0 } })
      const result = yield* runApe(input, small)
      yield* assertStoppedBeforeWork(input, result)
      assert.deepStrictEqual(result.log, [])
    }).pipe(Effect.provide(editWorld(preferNewer)))
  )
})

describe("APE/OPRO-style per-agent optimizer on the embedded simulator", () => {
  it.effect(
    "the default schedule finishes and returns a valid prompt set",
    () =>
      Effect.gen(function* () {
        const { result, total } = yield* runOnSimulator(5, (input) => runApe(input, defaultApeOptions))
        assert.strictEqual(result.stoppedBy, "schedule")
        assert.strictEqual(result.log.length, 2 * 4)
        assertValidSimPrompts(result.prompts, ["{question}", "{context}"])
        assert.isTrue(total > 1000 && total < 4000, `${total} calls`)
      }),
    30_000
  )
})
