import { assert, describe, it } from "@effect/vitest"
import {
  Budget,
  deriveSeed,
  type LMRequest,
  makeTopology,
  parseCompressionRequest,
  parsePairwiseRequest,
  parseRefineRequest,
  SeededRng,
  seedPrompts,
  stripLabels,
  type TaskItem,
  totalTally
} from "@maspo/core"
import { Cause, Effect, Exit } from "effect"
import * as fc from "fast-check"
import type { BaselineInput, BaselineResult } from "../src/optimizers/contract.ts"
import { betterThan, defaultTpeOptions, runTpe, type TpeOptions } from "../src/optimizers/tpe.ts"
import {
  categoricalDensity,
  goodCount,
  spaceSize,
  splitHistory,
  startupTrials,
  TpeSampler,
  type TpeTrial
} from "../src/optimizers/tpeSampler.ts"
import {
  assertValidSimPrompts,
  assertWithinCap,
  chainInput,
  questionItems,
  runOnSimulator,
  scriptedOptimizerLayer,
  scriptedTask,
  shortHash
} from "./baselineTesting.ts"

// ---------------------------------------------------------------------------------------------
// The sampler

const dimsArb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 })
const historyFor = (dims: ReadonlyArray<number>) =>
  fc.array(
    fc.record({
      choice: fc.tuple(...dims.map((n) => fc.integer({ min: 0, max: n - 1 }))),
      value: fc.double({ min: -10, max: 10, noNaN: true })
    }),
    { maxLength: 40 }
  )
const dimsAndHistory = dimsArb.chain((dims) => fc.tuple(fc.constant(dims), historyFor(dims)))

describe("TpeSampler", () => {
  it("suggestions are within bounds, for any history", () =>
    fc.assert(
      fc.property(dimsAndHistory, fc.integer(), fc.boolean(), ([dims, history], seed, avoid) => {
        const x = new TpeSampler(dims, { avoidDuplicates: avoid }).suggest(history, new SeededRng(seed))
        assert.strictEqual(x.length, dims.length)
        x.forEach((k, d) => assert.isTrue(Number.isInteger(k) && k >= 0 && k < dims[d]!))
      })
    ))

  it("is deterministic given the history and the RNG state", () =>
    fc.assert(
      fc.property(dimsAndHistory, fc.integer(), ([dims, history], seed) => {
        const a = new SeededRng(seed)
        const b = new SeededRng(seed)
        const s = new TpeSampler(dims)
        assert.deepStrictEqual(s.suggest(history, a), s.suggest(history, b))
        assert.deepStrictEqual(a.state, b.state)
      })
    ))

  it("startup suggestions ignore the values", () =>
    fc.assert(
      fc.property(dimsAndHistory, fc.integer(), ([dims, history], seed) => {
        const s = new TpeSampler(dims)
        const early = history.slice(0, Math.max(0, startupTrials(dims, 10) - 1))
        const flipped = early.map((t) => ({ ...t, value: -t.value }))
        assert.deepStrictEqual(s.suggest(early, new SeededRng(seed)), s.suggest(flipped, new SeededRng(seed)))
      })
    ))

  it("avoids choices already tried while at least half the space is untried", () =>
    fc.assert(
      fc.property(dimsAndHistory, fc.integer(), ([dims, history], seed) => {
        const keys = new Set(history.map((t) => t.choice.join(",")))
        fc.pre(keys.size * 2 <= spaceSize(dims))
        const x = new TpeSampler(dims).suggest(history, new SeededRng(seed))
        assert.isFalse(keys.has(x.join(",")))
      })
    ))

  it("startup is 10 trials, at most half of a tiny space, at least 1", () => {
    assert.strictEqual(startupTrials([5, 5, 5, 5], 10), 10)
    assert.strictEqual(startupTrials([2, 3], 10), 3)
    assert.strictEqual(startupTrials([1], 10), 1)
  })

  it("the good set is the best ceil(gamma n) trials (at least one), ties in history order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (values, gamma) => {
          const history = values.map((value, i) => ({ choice: [i], value }))
          const { good, bad } = splitHistory(history, gamma)
          assert.strictEqual(good.length, goodCount(values.length, gamma))
          assert.isTrue(good.length >= 1 && good.length >= Math.ceil(gamma * values.length) - 1e-9)
          assert.strictEqual(good.length + bad.length, values.length)
          const worstGood = Math.min(...good.map((t) => t.value))
          assert.isTrue(bad.every((t) => t.value <= worstGood))
          // Within a value, earlier trials come first.
          const sorted = [...good, ...bad]
          for (let i = 1; i < sorted.length; i++) {
            if (sorted[i]!.value === sorted[i - 1]!.value)
              assert.isTrue(sorted[i]!.choice[0]! > sorted[i - 1]!.choice[0]!)
          }
        }
      )
    )
    assert.strictEqual(goodCount(0, 0.25), 0)
    assert.strictEqual(goodCount(3, 0.25), 1)
    assert.strictEqual(goodCount(9, 0.25), 3)
  })

  it("categorical densities are Laplace-smoothed frequencies", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 6 })
          .chain((n) =>
            fc.tuple(
              fc.constant(n),
              fc.array(fc.integer({ min: 0, max: n - 1 })),
              fc.double({ min: 0.1, max: 5, noNaN: true })
            )
          ),
        ([n, picks, prior]) => {
          const p = categoricalDensity(
            picks.map((c) => ({ choice: [c], value: 0 })),
            0,
            n,
            prior
          )
          assert.closeTo(
            p.reduce((a, b) => a + b, 0),
            1,
            1e-9
          )
          p.forEach((pk, k) =>
            assert.closeTo(
              pk,
              (picks.filter((c) => c === k).length + prior) / (picks.length + prior * n),
              1e-12
            )
          )
        }
      )
    )
    assert.deepStrictEqual(categoricalDensity([], 0, 4, 1), [0.25, 0.25, 0.25, 0.25])
  })

  it("after startup it proposes the option the good trials share and the bad ones lack", () => {
    // Dimension 0: the good trials all chose 3, the bad ones never did.
    const history: Array<TpeTrial> = Array.from({ length: 20 }, (_, i) => ({
      choice: [i < 5 ? 3 : i % 3, i % 4],
      value: i < 5 ? 1 : 0
    }))
    for (let seed = 0; seed < 20; seed++) {
      const x = new TpeSampler([4, 4], { avoidDuplicates: false }).suggest(history, new SeededRng(seed))
      assert.strictEqual(x[0], 3)
    }
  })

  it("rejects a dimension without options", () => {
    assert.throws(() => new TpeSampler([3, 0]))
  })

  // Toy objective: 4 dimensions x 5 options (625 choices); value = dimensions equal to a hidden target.
  const trialsToOptimum = (seed: number, random: boolean, limit = 625) => {
    const dims = [5, 5, 5, 5]
    const rng = new SeededRng(deriveSeed(seed, "toy"))
    const target = dims.map((n) => rng.int(n))
    const sampler = new TpeSampler(dims, random ? { nStartup: Infinity } : {})
    const history: Array<TpeTrial> = []
    for (let t = 1; t <= limit; t++) {
      const choice = sampler.suggest(history, rng)
      const value = choice.filter((c, d) => c === target[d]).length
      if (value === dims.length) return t
      history.push({ choice, value })
    }
    return limit + 1
  }

  it("finds the toy optimum in far fewer trials than the space size, and beats random search", () => {
    const seeds = Array.from({ length: 12 }, (_, i) => i)
    const tpe = seeds.map((s) => trialsToOptimum(s, false))
    const random = seeds.map((s) => trialsToOptimum(s, true))
    const mean = (xs: Array<number>) => xs.reduce((a, b) => a + b, 0) / xs.length
    // Every seed within 1/5 of the space; on average under 1/10 of it.
    assert.isTrue(
      tpe.every((t) => t <= 125),
      `TPE trials ${tpe.join(",")}`
    )
    assert.isBelow(mean(tpe), 62.5)
    // Random search without replacement needs ~313 on average; demand a 3x margin.
    assert.isBelow(mean(tpe) * 3, mean(random), `TPE ${mean(tpe)} vs random ${mean(random)}`)
  })
})

// ---------------------------------------------------------------------------------------------
// The optimizer on a scripted world
//
// The Refiner's k-th proposal appends "[opt k]" to the prompt, so option index = k + 1 (0 = seed).
// The solver's output shows its option (`s=`), the compression keeps it, and the reviewer's output
// shows both options and a quality: 2 for the target combination (solver option 2, reviewer option
// 1), 1 for the seed combination, 0 otherwise. The global judge prefers the higher quality, so only
// the target beats the seed; the supervised task scores `q2` as right.

const TS = 2
const TR = 1
const optionOf = (content: string) => {
  const m = /\[opt (\d+)\]/.exec(content)
  return m ? Number(m[1]) + 1 : 0
}
const quality = (s: number, r: number) => (s === TS && r === TR ? 2 : s === 0 && r === 0 ? 1 : 0)

const labeledItems = (n: number): Array<TaskItem> => questionItems(n, "ans q2")

const script = (req: LMRequest): string => {
  const content = req.messages[req.messages.length - 1]!.content
  const comp = parseCompressionRequest(content)
  if (comp) return `c s=${/s=(\d+)/.exec(comp.output)?.[1] ?? "?"} ${shortHash(comp.output)}`
  const pair = parsePairwiseRequest(content)
  if (pair) {
    const qa = Number(/ans q(\d)/.exec(pair.a)?.[1] ?? -1)
    const qb = Number(/ans q(\d)/.exec(pair.b)?.[1] ?? -1)
    return qa >= qb ? "A" : "B"
  }
  const refine = parseRefineRequest(content)
  if (refine) {
    return `<analysis>a</analysis><modification>m</modification><new_prompt>${refine.prompt} [opt ${req.sampleIndex}]</new_prompt>`
  }
  if (content.startsWith("Solve.")) return `ans x s=${optionOf(content)} ${shortHash(content)}`
  const s = Number(/s=(\d+)/.exec(content)?.[1] ?? -1)
  const r = optionOf(content)
  return `ans q${quality(s, r)} s=${s} r=${r} ${shortHash(content)}`
}

const world = () => scriptedOptimizerLayer(script)

const inputFor = (n: number, extra: Partial<BaselineInput> = {}) =>
  chainInput(scriptedTask, labeledItems(n), 11, extra)

const calls = Effect.gen(function* () {
  const r = yield* (yield* Budget).report
  return {
    agent: r.agent.calls,
    optimizer: r.optimizer.calls,
    evaluator: r.evaluator.calls,
    total: totalTally(r).calls
  }
})

/** Small exhaustive config: 3 items, 2 proposals per agent -> 3 x 3 = 9 combinations. */
const tiny: Partial<TpeOptions> = { candidatesPerAgent: 2, proposalBatch: 3, evalItems: 3, trials: 50 }
const target = {
  solver: "Solve. {question} {context} [opt 1]",
  reviewer: "Review. {question} {context} [opt 0]"
}

const choiceOf = (note: string | undefined) =>
  (/options \[([\d, ]+)\]/.exec(note ?? "")?.[1] ?? "").split(", ").map(Number)

describe("runTpe", () => {
  it("defaults are documented values", () => {
    assert.deepStrictEqual(
      [defaultTpeOptions.candidatesPerAgent, defaultTpeOptions.trials, defaultTpeOptions.evalItems],
      [4, 20, 10]
    )
    assert.deepStrictEqual(
      [
        defaultTpeOptions.sampler.nStartup,
        defaultTpeOptions.sampler.gamma,
        defaultTpeOptions.sampler.nEiCandidates
      ],
      [10, 0.25, 24]
    )
    assert.isFalse(defaultTpeOptions.supervised)
  })

  it("ties go to the combination evaluated on more items, then to the earlier one", () => {
    assert.isTrue(betterThan({ value: 0.5, items: 10 }, { value: 0.5, items: 5 }))
    assert.isFalse(betterThan({ value: 0.5, items: 10 }, { value: 0.5, items: 10 }))
    assert.isTrue(betterThan({ value: 0.6, items: 1 }, { value: 0.5, items: 10 }))
  })

  it.effect(
    "makes exactly the expected calls and searches the whole tiny space, finding the joint optimum",
    () =>
      Effect.gen(function* () {
        const input = yield* inputFor(3)
        const result = yield* runTpe(input, tiny)
        // Seed system on the 3 items once: 3 x 2 agents x (answer + compression) = 12 agent calls.
        // Each of the 6 combinations that change the solver re-runs everything (12), each of the 2
        // that change only the reviewer re-runs the reviewer (6); 8 x 3 global comparisons; the seed
        // combination costs nothing. 2 agents x 2 optimizer calls.
        assert.deepStrictEqual(yield* calls, {
          agent: 12 + 6 * 12 + 2 * 6,
          optimizer: 4,
          evaluator: 24,
          total: 124
        })
        assert.strictEqual(result.stoppedBy, "schedule")
        assert.strictEqual(result.method, "tpe")
        assert.deepStrictEqual(
          result.log.map((s) => s.kind),
          ["propose", "propose", ...Array.from({ length: 9 }, () => "trial")]
        )
        const trials = result.log.slice(2)
        assert.deepStrictEqual(choiceOf(trials[0]!.candidates[0]!.note), [0, 0])
        assert.strictEqual(trials[0]!.candidates[0]!.score, 0.5)
        assert.strictEqual(new Set(trials.map((s) => choiceOf(s.candidates[0]!.note).join())).size, 9)
        for (const s of trials) {
          const [a, b] = choiceOf(s.candidates[0]!.note)
          const expected = a === 0 && b === 0 ? 0.5 : a === TS && b === TR ? 1 : 0
          assert.strictEqual(s.candidates[0]!.score, expected)
        }
        assert.deepStrictEqual(result.prompts, target)
        assert.deepStrictEqual(result.log[result.log.length - 1]!.best, target)
      }).pipe(Effect.provide(world()))
  )

  it.effect(
    "per trial: new combinations cost a re-run from the first changed agent plus one judge call per item",
    () =>
      Effect.gen(function* () {
        const input = yield* inputFor(20)
        const opts = { proposalBatch: 5, evalItems: 5, trials: 14 }
        const result = yield* runTpe(input, opts)
        assert.strictEqual(result.log.length, 2 + 14)
        // One optimizer call per proposal, per agent.
        assert.strictEqual(result.log[0]!.budget.optimizer.calls, 4)
        assert.strictEqual(result.log[1]!.budget.optimizer.calls, 8)
        assert.strictEqual(result.log[0]!.candidates.filter((c) => c.accepted).length, 4)
        for (let i = 3; i < result.log.length; i++) {
          const prev = result.log[i - 1]!.budget
          const step = result.log[i]!
          const [s, r] = choiceOf(step.candidates[0]!.note)
          const duplicate = step.candidates[0]!.note!.includes("duplicate")
          const agent = step.budget.agent.calls - prev.agent.calls
          const judge = step.budget.evaluator.calls - prev.evaluator.calls
          if (duplicate) assert.deepStrictEqual([agent, judge], [0, 0])
          else
            assert.deepStrictEqual([agent, judge], [s! > 0 ? 20 : r! > 0 ? 10 : 0, s! > 0 || r! > 0 ? 5 : 0])
          assert.strictEqual(step.budget.optimizer.calls, 8)
        }
      }).pipe(Effect.provide(world()))
  )

  it.effect(
    "on a fan-in, changing both parallel agents re-runs the whole system, one of them re-runs from it",
    () =>
      Effect.gen(function* () {
        const topology = yield* makeTopology({
          name: "fan-in",
          nodes: [
            { kind: "agent", id: "a", role: "solves", prompt: "Solve. A {question} {context}" },
            { kind: "agent", id: "b", role: "solves", prompt: "Solve. B {question} {context}" },
            { kind: "agent", id: "c", role: "reviews", prompt: "Review. {question} {context}" }
          ],
          edges: [
            { from: "a", to: "c" },
            { from: "b", to: "c" }
          ],
          terminal: "c"
        })
        const input = { ...(yield* inputFor(20)), topology, prompts: seedPrompts(topology) }
        const result = yield* runTpe(input, {
          candidatesPerAgent: 2,
          proposalBatch: 5,
          evalItems: 5,
          trials: 16
        })
        const kinds = new Set<string>()
        for (let i = 4; i < result.log.length; i++) {
          const step = result.log[i]!
          const [a, b, c] = choiceOf(step.candidates[0]!.note)
          if (step.candidates[0]!.note!.includes("duplicate")) continue
          const agent = step.budget.agent.calls - result.log[i - 1]!.budget.agent.calls
          // Per item and agent re-run: answer + compression.
          const perItem = a! > 0 && b! > 0 ? 6 : a! > 0 || b! > 0 ? 4 : c! > 0 ? 2 : 0
          kinds.add(String(perItem))
          assert.strictEqual(agent, 5 * perItem)
        }
        assert.isTrue(kinds.has("6") && kinds.has("4"))
      }).pipe(Effect.provide(world()))
  )

  it.effect("a repeated combination is not re-evaluated: its value is reused at no cost", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(3)
      const result = yield* runTpe(input, {
        ...tiny,
        trials: 25,
        maxDuplicateStreak: 100,
        sampler: { ...defaultTpeOptions.sampler, avoidDuplicates: false }
      })
      const trials = result.log.slice(2)
      const duplicates = trials.filter((s) => s.candidates[0]!.note!.includes("duplicate"))
      assert.isAbove(duplicates.length, 0)
      const byChoice = new Map<string, number>()
      trials.forEach((s, i) => {
        const key = choiceOf(s.candidates[0]!.note).join()
        const prev = i === 0 ? result.log[1]!.budget : trials[i - 1]!.budget
        if (byChoice.has(key)) {
          assert.strictEqual(s.candidates[0]!.score, byChoice.get(key))
          assert.strictEqual(totalTally(s.budget).calls, totalTally(prev).calls)
        } else byChoice.set(key, s.candidates[0]!.score)
      })
      // Only the distinct combinations cost anything.
      const c = yield* calls
      assert.strictEqual(c.evaluator, (byChoice.size - 1) * 3)
    }).pipe(Effect.provide(world()))
  )

  it.effect("the run ends after maxDuplicateStreak repeats in a row", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(3)
      const result = yield* runTpe(input, {
        ...tiny,
        trials: 200,
        maxDuplicateStreak: 3,
        sampler: { ...defaultTpeOptions.sampler, avoidDuplicates: false }
      })
      const notes = result.log.filter((s) => s.kind === "trial").map((s) => s.candidates[0]!.note!)
      assert.strictEqual(result.stoppedBy, "schedule")
      assert.isBelow(notes.length, 200)
      assert.isBelow(new Set(notes.map((n) => choiceOf(n).join())).size, 9)
      assert.isTrue(notes.slice(-3).every((n) => n.includes("duplicate")))
      assert.isFalse(notes[notes.length - 4]!.includes("duplicate"))
    }).pipe(Effect.provide(world()))
  )

  it.effect("with no proposals asked for, the only combination is the seed", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(3)
      const result = yield* runTpe(input, { ...tiny, candidatesPerAgent: 0 })
      assert.strictEqual(result.log.filter((s) => s.kind === "trial").length, 1)
      assert.deepStrictEqual(result.prompts, input.prompts)
      assert.deepStrictEqual(yield* calls, { agent: 12, optimizer: 0, evaluator: 0, total: 12 })
    }).pipe(Effect.provide(world()))
  )

  it.effect("is deterministic: same seed, same result, whatever the concurrency", () =>
    Effect.gen(function* () {
      const run = (concurrency: number, seed: number) =>
        Effect.gen(function* () {
          const input = yield* inputFor(20, { concurrency, seed })
          return yield* runTpe(input, { proposalBatch: 5, evalItems: 5, trials: 12 })
        }).pipe(Effect.provide(world()))
      const a: BaselineResult = yield* run(4, 3)
      const b: BaselineResult = yield* run(4, 3)
      const c: BaselineResult = yield* run(1, 3)
      assert.deepStrictEqual(a, b)
      assert.deepStrictEqual(a.prompts, c.prompts)
      assert.deepStrictEqual(
        a.log.map((s) => s.candidates),
        c.log.map((s) => s.candidates)
      )
      const d = yield* run(4, 4)
      assert.notDeepEqual(
        a.log.map((s) => s.candidates[0]?.note),
        d.log.map((s) => s.candidates[0]?.note)
      )
    })
  )

  it.effect("a call cap stops the trials within the cap, less than one trial's calls short of it", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(20, { cap: { maxCalls: 200 } })
      const result = yield* runTpe(input, { proposalBatch: 5, evalItems: 5 })
      const total = (yield* calls).total
      // One trial costs at most 5 x 4 agent calls + 5 judge calls.
      assert.strictEqual(result.stoppedBy, "budget")
      assertWithinCap(total, 200, 25)
      const last = result.log[result.log.length - 1]!
      assert.isAtMost(totalTally(last.budget).calls, 200)
      assert.deepStrictEqual(result.prompts, last.best)
    }).pipe(Effect.provide(world()))
  )

  it.effect("a cap reached during the proposals returns the seed prompts", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(20, { cap: { maxCalls: 10 } })
      const result = yield* runTpe(input, { proposalBatch: 5, evalItems: 5 })
      assert.strictEqual(result.stoppedBy, "budget")
      // The first proposal unit (the seed on 5 items, 20 agent calls, then 4 optimizer calls) does
      // not fit: it is discarded after the 10 calls the cap allows.
      assert.deepStrictEqual(result.log, [])
      assert.deepStrictEqual(result.prompts, input.prompts)
      assert.strictEqual((yield* calls).total, 10)
    }).pipe(Effect.provide(world()))
  )

  it.effect("a token cap stops the run too", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(20, { cap: { maxTokens: 1 } })
      const result = yield* runTpe(input, { proposalBatch: 5, evalItems: 5 })
      assert.strictEqual(result.stoppedBy, "budget")
      assert.strictEqual(result.log.length, 0)
      assert.strictEqual((yield* calls).total, 0)
    }).pipe(Effect.provide(world()))
  )

  it.effect("supervised: scores by the labeled pool's task score and makes no judge calls", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(3, { labeledPool: labeledItems(3) })
      const result = yield* runTpe(input, { ...tiny, supervised: true })
      assert.strictEqual(result.method, "tpe-supervised")
      assert.deepStrictEqual(result.prompts, target)
      const c = yield* calls
      assert.deepStrictEqual([c.agent, c.evaluator], [96, 0])
      for (const s of result.log.slice(2)) {
        const [a, b] = choiceOf(s.candidates[0]!.note)
        assert.strictEqual(s.candidates[0]!.score, a === TS && b === TR ? 1 : 0)
      }
    }).pipe(Effect.provide(world()))
  )

  it.effect("label-free: the pool's labels are never read (the result does not depend on them)", () =>
    Effect.gen(function* () {
      const run = (pool: ReadonlyArray<TaskItem>) =>
        Effect.gen(function* () {
          const input = yield* inputFor(3, { pool })
          return yield* runTpe(input, tiny)
        }).pipe(Effect.provide(world()))
      const stripped = yield* run(stripLabels(labeledItems(3)))
      const labeled = yield* run(labeledItems(3))
      assert.deepStrictEqual(stripped, labeled)
    })
  )

  it.effect("supervised without a labeled pool is a defect", () =>
    Effect.gen(function* () {
      const input = yield* inputFor(3)
      const exit = yield* Effect.exit(runTpe(input, { ...tiny, supervised: true }))
      assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
    }).pipe(Effect.provide(world()))
  )

  it.effect(
    "runs end to end on the embedded simulator and returns a valid prompt set",
    () =>
      Effect.gen(function* () {
        const { result, total } = yield* runOnSimulator(5, (input) => runTpe(input, defaultTpeOptions))
        assert.strictEqual(result.stoppedBy, "schedule")
        assert.deepStrictEqual(result.log.map((s) => s.kind).slice(0, 2), ["propose", "propose"])
        assert.isAtMost(result.log.length, 2 + defaultTpeOptions.trials)
        assertValidSimPrompts(result.prompts)
        // The best trial's value is at least the seed's (0.5): the seed trial is always evaluated.
        const scores = result.log.filter((s) => s.kind === "trial").map((s) => s.candidates[0]!.score)
        assert.strictEqual(scores[0], 0.5)
        assert.isAtLeast(Math.max(...scores), 0.5)
        assert.isTrue(total > 200 && total < 2000, `${total} calls`)
      }),
    30_000
  )
})
