import { assert, describe, it } from "@effect/vitest"
import {
  Budget,
  defaultRoleDefaults,
  LanguageModel,
  type LMRequest,
  makeTopology,
  MasExecutor,
  PairwiseJudge,
  parseCompressionRequest,
  parsePairwiseRequest,
  parseRefineRequest,
  Refiner,
  scriptedLanguageModel,
  seedPrompts,
  sha256Hex,
  slotProblems,
  stripLabels,
  type Task,
  type TaskItem,
  totalTally,
  type TopologySpec
} from "@maspo/core"
import { arithTask, generateArithItems, simClients, simSequential } from "@maspo/core/sim"
import { Effect, Layer } from "effect"
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

// A scripted world: every prompt edit appends "[edit ...]", so an agent's output shows how many
// edits its prompt has (`g=N`); the local judge follows a rule on those numbers.
const gen = (text: string) => (text.match(/\[edit /g) ?? []).length
const genOf = (text: string) => Number(/g=(\d+)/.exec(text)?.[1] ?? -1)
const h = (s: string) => sha256Hex(s).slice(0, 10)

const task: Task = {
  name: "scripted",
  kind: "arith",
  compressionWords: 30,
  extract: (reply) => /ans (\S+)/.exec(reply)?.[1],
  voteKey: (a) => a,
  score: (item, reply) => Effect.succeed(reply.includes(item.gold) ? 1 : 0)
}
const items = (n: number): Array<TaskItem> =>
  Array.from({ length: n }, (_, i) => ({ id: `q${i}`, question: `question number ${i}`, gold: "" }))
const chain: TopologySpec = {
  name: "chain",
  nodes: [
    { kind: "agent", id: "solver", role: "solves", prompt: "Solve. {question} {context}" },
    { kind: "agent", id: "reviewer", role: "reviews", prompt: "Review. {question} {context}" }
  ],
  edges: [{ from: "solver", to: "reviewer" }],
  terminal: "reviewer"
}

/** The local judge's answer for item `index` with responses a and b ("tie" names neither). */
type LocalRule = (index: number, a: string, b: string) => "A" | "B" | "tie"
const preferNewer: LocalRule = (_i, a, b) => (genOf(a) >= genOf(b) ? "A" : "B")
const preferOlder: LocalRule = (_i, a, b) => (genOf(a) <= genOf(b) ? "A" : "B")

const script =
  (local: LocalRule, seen: Array<{ role: string; content: string }> = []) =>
  (req: LMRequest, role: string): string => {
    const content = req.messages[req.messages.length - 1]!.content
    seen.push({ role, content })
    const comp = parseCompressionRequest(content)
    if (comp) return `c g=${genOf(comp.output)} ${h(comp.output)}`
    const pair = parsePairwiseRequest(content)
    if (pair) {
      const index = Number(/question number (\d+)/.exec(pair.question)?.[1])
      const v = local(index, pair.a, pair.b)
      return v === "tie" ? "I cannot decide." : v
    }
    const refine = parseRefineRequest(content)
    if (refine) {
      return `<analysis>a</analysis><modification>m</modification><new_prompt>${refine.prompt} [edit ${req.sampleIndex} ${h(content)}]</new_prompt>`
    }
    const q = /question number (\d+)/.exec(content)?.[1] ?? "?"
    return `ans ${q} g=${gen(content)} ${h(content)}`
  }

const world = (local: LocalRule, seen?: Array<{ role: string; content: string }>) =>
  Layer.mergeAll(MasExecutor.layer, Refiner.layer, PairwiseJudge.layer).pipe(
    Layer.provideMerge(scriptedLanguageModel(script(local, seen)))
  )

const small: ApeOptions = {
  evalBatchSize: 4,
  candidates: 2,
  topK: 1,
  iterations: 1,
  proposalsPerTop: 2,
  debiasPosition: false
}

const inputFor = (pool: ReadonlyArray<TaskItem>, overrides: Partial<BaselineInput> = {}) =>
  Effect.gen(function* () {
    const topology = yield* makeTopology(chain)
    const input: BaselineInput = {
      topology,
      task,
      pool,
      prompts: seedPrompts(topology),
      seed: 7,
      concurrency: 4,
      cap: {},
      ...overrides
    }
    return input
  })

const calls = Effect.gen(function* () {
  const r = yield* (yield* Budget).report
  return [r.agent.calls, r.optimizer.calls, r.evaluator.calls]
})

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
      const seen: Array<{ role: string; content: string }> = []
      yield* Effect.gen(function* () {
        const input = yield* inputFor(items(20))
        const result = yield* runApe(input, small)
        // Solver: reference run (4 items x 2 agents x answer + compression = 16); 2 + 2 candidates,
        // each a re-run of solver and reviewer (16) and 4 comparisons; 2 + 2 refine calls.
        // Reviewer: 16; 4 candidates re-running the reviewer only (8) and 4 comparisons; 4 refine calls.
        assert.deepStrictEqual(yield* calls, [16 + 4 * 16 + 16 + 4 * 8, 8, 32])
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
      }).pipe(Effect.provide(world(preferNewer, seen)))
    })
  )

  it.effect(
    "each iteration shows the kept prompt's traces in a fresh order, so a repeated request is new",
    () =>
      Effect.gen(function* () {
        const seen: Array<{ role: string; content: string }> = []
        yield* Effect.gen(function* () {
          const input = yield* inputFor(items(20))
          // Every edit scores 1 and ties go to the earlier: the kept prompt never changes.
          yield* runApe(input, { ...small, iterations: 3, proposalsPerTop: 1 })
        }).pipe(Effect.provide(world(preferNewer, seen)))
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
      const input = yield* inputFor(items(20))
      yield* runApe(input, { ...small, debiasPosition: true })
      assert.deepStrictEqual(yield* calls, [16 + 4 * 16 + 16 + 4 * 8, 8, 64])
    }).pipe(Effect.provide(world(preferNewer)))
  )

  it.effect("iterations from the kept prompts find better ones; ties keep the seed", () =>
    Effect.gen(function* () {
      // Pool = evaluation batch = items 0-3. One edit wins on items 0-1 (0.5, a tie with the seed);
      // two edits win on all four (1.0).
      const options: ApeOptions = { ...small, candidates: 2, topK: 2, iterations: 1, proposalsPerTop: 1 }
      const r = yield* runApe(yield* inputFor(items(4)), options)
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
      const input = yield* inputFor(items(4))
      const r0 = yield* runApe(input, { ...options, iterations: 0 })
      assert.deepStrictEqual(r0.prompts, input.prompts)
      assert.strictEqual(r0.log.length, 2)
    }).pipe(Effect.provide(world(graded)))
  )

  it.effect("a candidate the judge does not prefer is never chosen", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(items(20))
      const result = yield* runApe(input, { ...small, topK: 2 })
      assert.deepStrictEqual(result.prompts, input.prompts)
    }).pipe(Effect.provide(world(preferOlder)))
  )

  it.effect("the same seed gives the same result; another seed draws another evaluation batch", () =>
    Effect.gen(function* () {
      const once = (seed: number) =>
        Effect.gen(function* () {
          const result = yield* runApe(yield* inputFor(items(30), { seed }), small)
          return { result, report: yield* (yield* Budget).report }
        }).pipe(Effect.provide(world(preferNewer)))
      const a = yield* once(3)
      const b = yield* once(3)
      assert.deepStrictEqual(a.result, b.result)
      assert.deepStrictEqual(totalTally(a.report), totalTally(b.report))
      const c = yield* once(4)
      assert.notDeepEqual(a.result.prompts, c.result.prompts)
    })
  )

  it.effect("a call cap stops the run within one unit of work and keeps the best so far", () =>
    Effect.gen(function* () {
      for (const cap of [30, 70, 100, 150]) {
        const result = yield* Effect.gen(function* () {
          const input = yield* inputFor(items(20), { cap: { maxCalls: cap } })
          const result = yield* runApe(input, small)
          const total = totalTally(yield* (yield* Budget).report).calls
          assert.strictEqual(result.stoppedBy, "budget")
          // The largest unit is a solver trial: 16 agent calls + 4 comparisons.
          assert.isAtLeast(total, cap)
          assert.isBelow(total, cap + 20)
          assert.deepStrictEqual(result.log[result.log.length - 1]!.best, result.prompts)
          return result
        }).pipe(Effect.provide(world(preferNewer)))
        // Once a candidate is scored, the best so far (an edit) is kept.
        if (cap >= 70) assert.strictEqual(gen(result.prompts.solver!), 1)
      }
    })
  )

  it.effect("a cap already reached stops before any work and returns the seed prompts", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(items(20), { cap: { maxCalls: 0 } })
      const result = yield* runApe(input, small)
      assert.strictEqual(result.stoppedBy, "budget")
      assert.deepStrictEqual(result.prompts, input.prompts)
      assert.deepStrictEqual(result.log, [])
      assert.deepStrictEqual(yield* calls, [0, 0, 0])
    }).pipe(Effect.provide(world(preferNewer)))
  )
})

describe("APE/OPRO-style per-agent optimizer on the embedded simulator", () => {
  it.effect(
    "the default schedule finishes and returns a valid prompt set",
    () =>
      Effect.gen(function* () {
        const seed = 5
        const topology = yield* makeTopology(simSequential)
        const input: BaselineInput = {
          topology,
          task: arithTask,
          pool: stripLabels(generateArithItems(seed, 50, "pool")),
          prompts: seedPrompts(topology),
          seed,
          concurrency: 8,
          cap: {}
        }
        const result = yield* runApe(input, defaultApeOptions)
        const total = totalTally(yield* (yield* Budget).report).calls
        assert.strictEqual(result.stoppedBy, "schedule")
        assert.strictEqual(result.log.length, 2 * 4)
        assert.deepStrictEqual(Object.keys(result.prompts).sort(), ["reviewer", "solver"])
        for (const prompt of Object.values(result.prompts)) {
          assert.include(prompt, "{question}")
          assert.include(prompt, "{context}")
          const p = slotProblems(prompt)
          assert.deepStrictEqual([p.missing, p.unknown, p.duplicated].flat(), [])
        }
        assert.isTrue(total > 1000 && total < 4000, `${total} calls`)
      }).pipe(
        Effect.provide(
          Layer.mergeAll(MasExecutor.layer, Refiner.layer, PairwiseJudge.layer).pipe(
            Layer.provideMerge(LanguageModel.layer(simClients(), defaultRoleDefaults(5))),
            Layer.provideMerge(Budget.layer)
          )
        )
      ),
    30_000
  )
})
