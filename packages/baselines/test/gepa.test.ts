import { assert, describe, it } from "@effect/vitest"
import {
  type LMRequest,
  makeTopology,
  parseCompressionRequest,
  parsePairwiseRequest,
  parseRefineRequest,
  type PromptSet,
  seedPrompts,
  type Task,
  type TaskItem,
  totalTally
} from "@maspo/core"
import { Effect } from "effect"
import fc from "fast-check"
import type { BaselineInput } from "../src/optimizers/contract.ts"
import { defaultGepaOptions, feedbackText, runGepa, runGepaDetailed } from "../src/optimizers/gepa.ts"
import {
  ancestors,
  changedModules,
  dominates,
  type Lineage,
  mergeCandidates,
  mergeDisjoint,
  mergeKey,
  paretoFrontier,
  rerunRoot,
  selectParent,
  splitPool
} from "../src/optimizers/gepaPareto.ts"
import {
  assertStoppedBeforeWork,
  assertValidSimPrompts,
  assertWithinCap,
  callsByRole,
  chainInput,
  gen,
  questionItems,
  scriptedOptimizerLayer,
  scriptedTask,
  shortHash,
  runOnSimulator,
  totalCalls
} from "./baselineTesting.ts"

// ---------------------------------------------------------------------------------------------
// Pure helpers

const scoreMatrix = fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 6 })).chain(([n, m]) =>
  fc.array(fc.array(fc.constantFrom(0, 0.5, 1), { minLength: m, maxLength: m }), {
    minLength: n,
    maxLength: n
  })
)

describe("GEPA Pareto frontier", () => {
  it("dominance is irreflexive, asymmetric and transitive", () => {
    const vec = fc.array(fc.constantFrom(0, 0.5, 1), { minLength: 4, maxLength: 4 })
    fc.assert(
      fc.property(vec, vec, vec, (a, b, c) => {
        assert.isFalse(dominates(a, a))
        if (dominates(a, b)) assert.isFalse(dominates(b, a))
        if (dominates(a, b) && dominates(b, c)) assert.isTrue(dominates(a, c))
      })
    )
    assert.isTrue(dominates([1, 0.5], [1, 0]))
    assert.isFalse(dominates([1, 0], [0, 1]))
  })

  it("every item keeps a non-empty front of best, non-dominated candidates; weights count fronts", () => {
    fc.assert(
      fc.property(scoreMatrix, (scores) => {
        const f = paretoFrontier(scores)
        const items = scores[0]!.length
        assert.strictEqual(f.fronts.length, items)
        for (let i = 0; i < items; i++) {
          const best = Math.max(...scores.map((r) => r[i]!))
          assert.isAbove(f.fronts[i]!.length, 0)
          for (const c of f.fronts[i]!) assert.strictEqual(scores[c]![i], best)
        }
        // Members: exactly the non-dominated candidates that are best on some item.
        scores.forEach((row, c) => {
          const dominated = scores.some((other) => dominates(other, row))
          const bestSomewhere = row.some((x, i) => x === Math.max(...scores.map((r) => r[i]!)))
          const expected = items === 0 ? !dominated : !dominated && bestSomewhere
          assert.strictEqual(f.members.includes(c), expected)
        })
        f.members.forEach((m, k) => {
          assert.strictEqual(f.counts[k], f.fronts.filter((front) => front.includes(m)).length)
        })
        assert.deepStrictEqual(
          [...f.members],
          [...f.members].sort((a, b) => a - b)
        )
      })
    )
  })

  it("drops dominated candidates and keeps incomparable ones", () => {
    const f = paretoFrontier([
      [0.5, 0.5, 0.5],
      [1, 1, 0],
      [1, 0.5, 0.5],
      [0.5, 0.5, 1]
    ])
    // 0 is dominated by 2 (and 3); 1, 2, 3 are incomparable.
    assert.deepStrictEqual(f.members, [1, 2, 3])
    assert.deepStrictEqual(f.fronts, [[1, 2], [1], [3]])
    assert.deepStrictEqual(f.counts, [2, 1, 1])
  })

  it("selection is proportional to the number of fronts a member is on", () => {
    fc.assert(
      fc.property(scoreMatrix, (scores) => {
        const f = paretoFrontier(scores)
        const total = f.counts.reduce((a, b) => a + b, 0)
        const slots = Math.max(1, total) * 8
        const hits = new Map<number, number>()
        for (let k = 0; k < slots; k++) {
          const c = selectParent(f, (k + 0.5) / slots)
          assert.include(f.members, c)
          hits.set(c, (hits.get(c) ?? 0) + 1)
        }
        if (total > 0) f.members.forEach((m, k) => assert.strictEqual(hits.get(m) ?? 0, f.counts[k]! * 8))
      })
    )
    assert.strictEqual(selectParent({ fronts: [], members: [], counts: [] }, 0.3), -1)
  })
})

describe("GEPA lineage and merge", () => {
  const modules = ["a", "b", "c", "d"]
  const promptSet = fc
    .tuple(...modules.map(() => fc.constantFrom("p", "q", "r")))
    .map((ps) => Object.fromEntries(modules.map((m, i) => [m, ps[i]!])))

  it("a merge takes each module from the descendant that changed it, or fails on a conflict", () => {
    fc.assert(
      fc.property(promptSet, promptSet, promptSet, (anc, a, b) => {
        const merged = mergeDisjoint(anc, a, b)
        const conflict = modules.some((m) => a[m] !== anc[m] && b[m] !== anc[m] && a[m] !== b[m])
        assert.strictEqual(merged === undefined, conflict)
        if (!merged) return
        for (const m of modules) {
          const expected = a[m] !== anc[m] ? a[m] : b[m] !== anc[m] ? b[m] : anc[m]
          assert.strictEqual(merged[m], expected)
        }
        // Every change of either side survives; nothing else changes.
        for (const m of changedModules(anc, a)) assert.strictEqual(merged[m], a[m])
        for (const m of changedModules(anc, b)) assert.strictEqual(merged[m], b[m])
        for (const m of changedModules(anc, merged)) assert.isTrue(a[m] !== anc[m] || b[m] !== anc[m])
      })
    )
  })

  const lineage: Array<Lineage> = [
    { prompts: { s: "s0", r: "r0" }, parents: [] }, // 0 seed
    { prompts: { s: "s1", r: "r0" }, parents: [0] }, // 1 changed s
    { prompts: { s: "s0", r: "r1" }, parents: [0] }, // 2 changed r
    { prompts: { s: "s2", r: "r0" }, parents: [1] }, // 3 changed s again
    { prompts: { s: "s1", r: "r2" }, parents: [1] }, // 4 changed r below 1
    { prompts: { s: "s1", r: "r1" }, parents: [1, 2] } // 5 merge of 1 and 2
  ]

  it("ancestors follow every parent", () => {
    assert.deepStrictEqual([...ancestors(lineage, 0)], [])
    assert.deepStrictEqual([...ancestors(lineage, 3)].sort(), [0, 1])
    assert.deepStrictEqual([...ancestors(lineage, 5)].sort(), [0, 1, 2])
  })

  it("merge plans: no ancestor pairs, disjoint changes from the latest common ancestor, new sets only", () => {
    // 1 and 2 merge to 5's prompts, which exist already; 3 (s) and 4 (r) share ancestor 1.
    const plans = mergeCandidates(lineage, [1, 2, 3, 4], new Set())
    assert.deepStrictEqual(
      plans.map((p) => [p.a, p.b, p.ancestor]),
      [
        [2, 3, 0],
        [3, 4, 1]
      ]
    )
    assert.deepStrictEqual(plans[1]!.prompts, { s: "s2", r: "r2" })
    // 2 and 3 changed r and s relative to the seed: s from 3, r from 2.
    assert.deepStrictEqual(plans[0]!.prompts, { s: "s2", r: "r1" })
    // Tried plans are not offered again; 1 is an ancestor of 3 and 4 so never pairs with them.
    const rest = mergeCandidates(lineage, [1, 2, 3, 4], new Set([mergeKey(plans[1]!)]))
    assert.deepStrictEqual(
      rest.map((p) => [p.a, p.b]),
      [[2, 3]]
    )
    assert.isTrue(mergeCandidates(lineage, [1, 3], new Set()).length === 0)
  })

  it("a re-run starts at the first changed agent when the others are its descendants", () =>
    Effect.gen(function* () {
      const diamond = yield* makeTopology({
        name: "diamond",
        nodes: ["a", "b", "c", "d"].map((id) => ({
          kind: "agent" as const,
          id,
          role: id,
          prompt: `${id} {question} {context}`
        })),
        edges: [
          { from: "a", to: "b" },
          { from: "a", to: "c" },
          { from: "b", to: "d" },
          { from: "c", to: "d" }
        ],
        terminal: "d"
      })
      const base = seedPrompts(diamond)
      assert.strictEqual(rerunRoot(diamond, base, base), "none")
      assert.strictEqual(rerunRoot(diamond, base, { ...base, d: "x" }), "d")
      assert.strictEqual(rerunRoot(diamond, base, { ...base, b: "x", d: "y" }), "b")
      assert.strictEqual(rerunRoot(diamond, base, { ...base, b: "x", c: "y" }), "full")
      assert.strictEqual(rerunRoot(diamond, base, { ...base, a: "x", c: "y" }), "a")
    }).pipe(Effect.runSync))

  it("the validation split is a seeded partition of the pool", () => {
    const pool = Array.from({ length: 30 }, (_, i) => ({ id: `q${i}`, question: `${i}`, gold: "" }))
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer(), (k, seed) => {
        const { val, feedback } = splitPool(pool, k, seed)
        assert.strictEqual(val.length, Math.min(k, pool.length))
        assert.deepStrictEqual([...val, ...feedback].map((i) => i.id).sort(), pool.map((i) => i.id).sort())
        assert.deepStrictEqual(splitPool(pool, k, seed), { val, feedback })
      })
    )
  })

  it("feedback text names the verdict or the task score", () => {
    assert.include(feedbackText(0, false), "worse than the baseline")
    assert.include(feedbackText(0.5, false), "no better than the baseline")
    assert.include(feedbackText(1, false), "better than the baseline")
    assert.include(feedbackText(0, true), "Task score 0 of 1")
    assert.include(feedbackText(1, true), "Task score 1 of 1")
  })
})

// ---------------------------------------------------------------------------------------------
// Scripted world: every refinement appends "[edit ...]" to a prompt; an agent's output shows how
// many edits its prompt has (g=N), and the reviewer's output shows the solver's (saw=N).

const num = (re: RegExp, text: string) => Number(re.exec(text)?.[1] ?? 0)

/** Final output: "ans i g=<reviewer edits> saw=<solver edits>". */
const finalOf = (out: string) => ({ r: num(/ g=(\d+)/, out), s: num(/saw=(\d+)/, out) })

const editTotalTask: Task = {
  ...scriptedTask,
  // Supervised: the item is solved when the final output carries at least `gold` edits in all.
  score: (item, reply) => {
    const f = finalOf(reply)
    return Effect.succeed(f.r + f.s >= Number(item.gold) ? 1 : 0)
  }
}

const itemsN = (n: number, gold = "1"): Array<TaskItem> => questionItems(n, gold)

/** How good a final output is on item `i` (the judge prefers higher, equal is a tie). */
type Quality = (i: number, f: { r: number; s: number }) => number

interface WorldOptions {
  readonly quality: Quality
  /** The reviewer's refinement fails (no prompt block) when this holds for its request. */
  readonly blockReviewer?: (content: string) => boolean
  readonly refines?: Array<string>
}

const world =
  (w: WorldOptions) =>
  (req: LMRequest): string => {
    const content = req.messages[req.messages.length - 1]!.content
    const comp = parseCompressionRequest(content)
    if (comp) return `c g=${num(/g=(\d+)/, comp.output)} ${shortHash(comp.output)}`
    const pair = parsePairwiseRequest(content)
    if (pair) {
      const i = num(/question number (\d+)/, pair.question)
      const qa = w.quality(i, finalOf(pair.a))
      const qb = w.quality(i, finalOf(pair.b))
      return qa > qb ? "A" : qb > qa ? "B" : "tie"
    }
    const refine = parseRefineRequest(content)
    if (refine) {
      w.refines?.push(content)
      if (refine.agentRole === "reviews" && w.blockReviewer?.(content)) return "I cannot improve this."
      return `<analysis>a</analysis><modification>m</modification><new_prompt>${refine.prompt} [edit ${shortHash(content)}]</new_prompt>`
    }
    const q = /question number (\d+)/.exec(content)?.[1] ?? "?"
    const ctx = /\[solver\] c g=(\d+)/.exec(content)
    return `ans ${q} g=${gen(content)}${ctx ? ` saw=${ctx[1]}` : ""} ${shortHash(content)}`
  }

const inputFor = (pool: ReadonlyArray<TaskItem>, extra: Partial<BaselineInput> = {}) =>
  chainInput(editTotalTask, pool, 7, extra)

/** Higher total of edits is better. */
const moreEdits: Quality = (_i, f) => f.r + f.s

/**
 * Items 0-2: the solver's edit helps. Item 3: the reviewer's edit helps, and the solver's edit hurts
 * unless the reviewer is edited too. With `blockReviewer` the reviewer cannot be refined on top of an
 * edited solver, so a lineage that edited the solver first reaches the combination only by a merge.
 */
const tradeOff: Quality = (i, f) => (i < 3 ? (f.s >= 1 ? 1 : 0) : f.r >= 1 ? 1 : f.s >= 1 ? -1 : 0)
const blockReviewer = (content: string) => /\[solver\] c g=[1-9]/.test(content)

describe("GEPA with scripted LLMs", () => {
  it.effect("makes exactly the expected calls: seed validation, reflection, minibatch test, validation", () =>
    Effect.gen(function* () {
      // Pool of 6, validation 4: the minibatch source is the same 2 items every time.
      const input = yield* inputFor(itemsN(6))
      const run = yield* runGepaDetailed(input, {
        valSize: 4,
        minibatchSize: 2,
        maxMetricCalls: 16,
        merge: false
      })
      // Seed on validation: 4 runs x 4 agent calls, no judge call (identical to itself).
      // 1: seed on the minibatch (8), solver child (full re-run, 8 + 2 judge); it wins -> validation
      //    (16 + 4 judge). 2: the child is the only frontier member; its cursor is at the reviewer;
      //    the reviewer child re-runs the reviewer only (4 + 2 judge) and ties (2 vs 2) -> rejected.
      // 3: the solver again (8 + 2 judge), tie -> rejected. 16 metric calls: stop.
      assert.deepStrictEqual(yield* callsByRole, [16 + 8 + 8 + 16 + 4 + 8, 3, 2 + 4 + 2 + 2])
      assert.strictEqual(run.metricCalls, 16)
      assert.strictEqual(run.iterations, 3)
      assert.strictEqual(run.stoppedBy, "schedule")
      assert.deepStrictEqual(
        run.log.map((s) => [s.kind, s.agentId]),
        [
          ["mutate", "solver"],
          ["reject", "reviewer"],
          ["reject", "solver"]
        ]
      )
      assert.deepStrictEqual(
        run.candidates.map((c) => [c.origin, c.parents, c.valScores]),
        [
          ["seed", [], [0.5, 0.5, 0.5, 0.5]],
          ["mutate", [0], [1, 1, 1, 1]]
        ]
      )
      assert.strictEqual(run.best, 1)
      assert.strictEqual(run.prompts.solver, run.candidates[1]!.prompts.solver)
      assert.include(run.prompts.solver!, "[edit ")
      assert.strictEqual(run.prompts.reviewer, input.prompts.reviewer)
      assert.strictEqual(run.valIds.length, 4)
      // The step log carries the running budget.
      assert.strictEqual(totalTally(run.log[2]!.budget).calls, 60 + 3 + 10)
    }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality: moreEdits }))))
  )

  it.effect("label-free feedback marks the traces whose final answer lost to the seed system's", () => {
    const refines: Array<string> = []
    // Items 0-2: more edits is better; item 3: any edit is worse. Validation = minibatch = the pool.
    const quality: Quality = (i, f) => (i < 3 ? f.r + f.s : -(f.r + f.s))
    return Effect.gen(function* () {
      const input = yield* inputFor(itemsN(4))
      const run = yield* runGepaDetailed(input, {
        valSize: 4,
        minibatchSize: 4,
        maxMetricCalls: 40,
        merge: false
      })
      // The first solver edit wins 3 items and loses 1 (3 > 2): accepted.
      assert.deepStrictEqual(run.candidates[1]!.valScores, [1, 1, 1, 0])
      const withFeedback = refines.flatMap((c) =>
        [
          ...c.matchAll(
            /<question>\nquestion number (\d+)\n<\/question>[\s\S]*?<\/output>\n(<feedback>[\s\S]*?<\/feedback>)?/g
          )
        ].map((m) => ({ i: Number(m[1]), feedback: m[2] }))
      )
      assert.isAbove(withFeedback.length, 0)
      // The seed parent ties everywhere (no feedback); later parents lose on item 3 only.
      for (const t of withFeedback) {
        if (t.feedback) {
          assert.strictEqual(t.i, 3)
          assert.include(t.feedback, feedbackText(0, false))
        }
      }
      assert.isTrue(withFeedback.some((t) => t.feedback !== undefined))
    }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality, refines }))))
  })

  it.effect("is deterministic: the same seed gives the same prompts, log and calls", () =>
    Effect.gen(function* () {
      const quality: Quality = (i, f) => ((i * 7 + f.r * 3 + f.s * 5) % 4) + (f.r + f.s > 2 ? 1 : 0)
      const once = Effect.gen(function* () {
        const input = yield* inputFor(itemsN(20))
        const run = yield* runGepaDetailed(input, { maxMetricCalls: 80, mergeEvery: 2 })
        return { run, calls: yield* callsByRole }
      }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality }))))
      const a = yield* once
      const b = yield* once
      assert.deepStrictEqual(a, b)
      assert.isAbove(a.run.log.length, 3)
      const other = yield* Effect.gen(function* () {
        const input = { ...(yield* inputFor(itemsN(20))), seed: 8 }
        return yield* runGepaDetailed(input, { maxMetricCalls: 80, mergeEvery: 2 })
      }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality }))))
      assert.notDeepEqual(other.valIds, a.run.valIds)
    })
  )

  it.effect("merges two frontier candidates whose changes are disjoint", () => {
    return Effect.gen(function* () {
      for (const seed of [1, 2, 3]) {
        const input = { ...(yield* inputFor(itemsN(4))), seed }
        // Validation = the whole pool and minibatches of 4: every test sees all four items.
        const run = yield* runGepaDetailed(input, {
          valSize: 4,
          minibatchSize: 4,
          maxMetricCalls: 60,
          mergeEvery: 1
        })
        const merged = run.candidates.filter((c) => c.origin === "merge")
        assert.strictEqual(merged.length, 1, `seed ${seed}`)
        const m = merged[0]!
        const [a, b] = m.parents.map((p) => run.candidates[p]!)
        const bySolver = [a!, b!].find((c) => c.agentId === "solver")!
        const byReviewer = [a!, b!].find((c) => c.agentId === "reviewer")!
        assert.deepStrictEqual(bySolver.parents, [0])
        assert.deepStrictEqual(byReviewer.parents, [0])
        const expected: PromptSet = {
          solver: bySolver.prompts.solver!,
          reviewer: byReviewer.prompts.reviewer!
        }
        assert.deepStrictEqual(m.prompts, expected)
        assert.deepStrictEqual(m.valScores, [1, 1, 1, 1])
        assert.strictEqual(run.best, m.id)
        assert.deepStrictEqual(run.prompts, m.prompts)
        const step = run.log.find((s) => s.kind === "merge")!
        assert.isTrue(step.candidates[0]!.accepted)
        assert.deepStrictEqual(step.candidates[0]!.prompts, m.prompts)
      }
    }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality: tradeOff, blockReviewer }))))
  })

  it.effect("with merge off every iteration is a mutation and no candidate has two parents", () =>
    Effect.gen(function* () {
      for (const seed of [1, 2, 3]) {
        const input = { ...(yield* inputFor(itemsN(4))), seed }
        const run = yield* runGepaDetailed(input, {
          valSize: 4,
          minibatchSize: 4,
          maxMetricCalls: 60,
          merge: false
        })
        assert.isTrue(run.candidates.every((c) => c.parents.length <= 1))
        assert.isFalse(run.log.some((s) => s.kind === "merge"))
        assert.isTrue(run.log.every((s) => s.agentId !== undefined))
        assert.strictEqual(run.log.length, run.iterations)
      }
    }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality: tradeOff, blockReviewer }))))
  )

  it.effect("feedback 'all' annotates every reflection trace", () => {
    const refines: Array<string> = []
    return Effect.gen(function* () {
      const input = yield* inputFor(itemsN(8))
      yield* runGepaDetailed(input, { valSize: 4, minibatchSize: 2, maxMetricCalls: 30, feedback: "all" })
      assert.isAbove(refines.length, 0)
      for (const content of refines) {
        const traces = content.match(/<trace index=/g)!.length
        assert.strictEqual(content.match(/<feedback>/g)?.length, traces)
      }
      // The seed parent ties with itself.
      assert.include(refines[0]!, feedbackText(0.5, false))
    }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality: moreEdits, refines }))))
  })

  it.effect("the cap stops the run within one unit of work and keeps the best so far", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(itemsN(20), { cap: { maxCalls: 120 } })
      const run = yield* runGepaDetailed(input, { maxMetricCalls: 1000 })
      assert.strictEqual(run.stoppedBy, "budget")
      const total = yield* totalCalls
      // One unit: a mutation (3 parent + 3 seed runs of 4 calls, a refine call, 3 child runs and 3
      // judge calls) or one validation (10 runs of 4 calls and 10 judge calls).
      assertWithinCap(total, 120, 50)
      assert.strictEqual(run.prompts, run.candidates[run.best]!.prompts)
    }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality: moreEdits }))))
  )

  it.effect("a cap already reached returns the seed prompts without a call", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(itemsN(20), { cap: { maxCalls: 0 } })
      const result = yield* runGepa(input)
      yield* assertStoppedBeforeWork(input, result)
    }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality: moreEdits }))))
  )

  it.effect("supervised scores come from labeledPool and feed 'task score' feedback; no judge calls", () => {
    const refines: Array<string> = []
    return Effect.gen(function* () {
      const labeled = itemsN(10, "1")
      const input = yield* inputFor(labeled, { labeledPool: labeled })
      const run = yield* runGepaDetailed(input, {
        supervised: true,
        valSize: 4,
        minibatchSize: 3,
        maxMetricCalls: 40
      })
      assert.strictEqual(run.method, "gepa-supervised")
      assert.strictEqual((yield* callsByRole)[2], 0)
      assert.deepStrictEqual(run.candidates[0]!.valScores, [0, 0, 0, 0])
      // One edit solves every item (gold "1").
      assert.deepStrictEqual(run.candidates[run.best]!.valScores, [1, 1, 1, 1])
      assert.include(refines[0]!, feedbackText(0, true))
    }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality: moreEdits, refines }))))
  })

  it.effect("supervised without labels is an input error", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(itemsN(10))
      const error = yield* Effect.flip(runGepa(input, { supervised: true }))
      assert.strictEqual(error._tag, "InputError")
      const partial = yield* Effect.flip(runGepa({ ...input, labeledPool: itemsN(5) }, { supervised: true }))
      assert.include(partial.message, "q5")
    }).pipe(Effect.provide(scriptedOptimizerLayer(world({ quality: moreEdits }))))
  )
})

// ---------------------------------------------------------------------------------------------
// End to end on the embedded simulator

describe("GEPA on the simulator", () => {
  it.effect("finishes its default schedule and returns a valid prompt set", () =>
    Effect.gen(function* () {
      const { result, report } = yield* runOnSimulator(11, (input) => runGepa(input, defaultGepaOptions))
      assert.strictEqual(result.method, "gepa")
      assert.strictEqual(result.stoppedBy, "schedule")
      assertValidSimPrompts(result.prompts)
      assert.isAbove(result.log.length, 0)
      assert.isAbove(report.optimizer.calls, 0)
      assert.isAbove(report.evaluator.calls, 0)
      const best: PromptSet = result.log[result.log.length - 1]!.best
      assert.deepStrictEqual(best, result.prompts)
    })
  )
})
