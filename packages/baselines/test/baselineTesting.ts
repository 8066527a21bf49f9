import { assert } from "@effect/vitest"
import {
  Budget,
  type BudgetReport,
  defaultRoleDefaults,
  LanguageModel,
  type LMRequest,
  makeTopology,
  MasExecutor,
  PairwiseJudge,
  parseCompressionRequest,
  parsePairwiseRequest,
  parseRefineRequest,
  type PromptSet,
  Refiner,
  scriptedLanguageModel,
  type ScriptedReply,
  seedPrompts,
  sha256Hex,
  slotProblems,
  stripLabels,
  type Task,
  type TaskItem,
  totalTally
} from "@maspo/core"
import { arithTask, generateArithItems, simClients, simSequential } from "@maspo/core/sim"
import { Effect, Layer } from "effect"
import { chain } from "../../evaluators/test/scriptedWorld.ts"
import type { BaselineInput, BaselineResult } from "../src/optimizers/contract.ts"

/**
 * Shared setup for the baseline optimizers' tests: the two-agent chain and its scripted task and
 * items, the layers the optimizers run on (scripted or the embedded simulator), the edit-counting
 * scripted world, and checks on budgets and prompt sets.
 */

// ---------------------------------------------------------------------------------------------
// Text helpers for scripted replies

/** A short stable digest, so that different requests give different replies. */
export const shortHash = (s: string) => sha256Hex(s).slice(0, 10)
/** How many "[edit ...]" marks a text carries: the number of edits of the prompt it came from. */
export const gen = (text: string) => (text.match(/\[edit /g) ?? []).length
/** The `g=N` edit count a scripted reply reports (-1 when absent). */
export const genOf = (text: string) => Number(/g=(\d+)/.exec(text)?.[1] ?? -1)

// ---------------------------------------------------------------------------------------------
// The scripted system

/** A task whose answer is the text after "ans "; an item is solved when the reply contains its gold. */
export const scriptedTask: Task = {
  name: "scripted",
  kind: "arith",
  compressionWords: 30,
  extract: (reply) => /ans (\S+)/.exec(reply)?.[1],
  voteKey: (a) => a,
  score: (item, reply) => Effect.succeed(reply.includes(item.gold) ? 1 : 0)
}

/** Items q0..q(n-1) asking "question number i", all with the same gold. */
export const questionItems = (n: number, gold = ""): Array<TaskItem> =>
  Array.from({ length: n }, (_, i) => ({ id: `q${i}`, question: `question number ${i}`, gold }))

/** Solver then reviewer: the same two-agent chain as the MASPO search tests. */
export { chain }

/** A baseline input on `chain` with its seed prompts, the pool's labels stripped, concurrency 4, no cap. */
export const chainInput = (
  task: Task,
  pool: ReadonlyArray<TaskItem>,
  seed: number,
  overrides: Partial<BaselineInput> = {}
) =>
  Effect.gen(function* () {
    const topology = yield* makeTopology(chain)
    const input: BaselineInput = {
      topology,
      task,
      pool: stripLabels(pool),
      prompts: seedPrompts(topology),
      seed,
      concurrency: 4,
      cap: {},
      ...overrides
    }
    return input
  })

// ---------------------------------------------------------------------------------------------
// Layers

/** Executor, Refiner and PairwiseJudge over a scripted LanguageModel (with its Budget). */
export const scriptedOptimizerLayer = (reply: ScriptedReply) =>
  Layer.mergeAll(MasExecutor.layer, Refiner.layer, PairwiseJudge.layer).pipe(
    Layer.provideMerge(scriptedLanguageModel(reply))
  )

/** Executor, Refiner and PairwiseJudge over the embedded simulator with a run seed. */
export const simOptimizerLayer = (seed: number) =>
  Layer.mergeAll(MasExecutor.layer, Refiner.layer, PairwiseJudge.layer).pipe(
    Layer.provideMerge(LanguageModel.layer(simClients(), defaultRoleDefaults(seed))),
    Layer.provideMerge(Budget.layer)
  )
type SimOptimizerLayer = ReturnType<typeof simOptimizerLayer>

/** The simulator's sequential system on 50 unlabeled arithmetic items, concurrency 8, no cap. */
const simInput = (seed: number) =>
  Effect.gen(function* () {
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
    return input
  })

/**
 * Runs an optimizer end to end on the simulator (`simInput` under `simOptimizerLayer`, both from
 * `seed`); gives its result, the budget report afterwards and the total calls in it.
 */
export const runOnSimulator = <E>(
  seed: number,
  run: (input: BaselineInput) => Effect.Effect<BaselineResult, E, Layer.Success<SimOptimizerLayer>>
) =>
  Effect.gen(function* () {
    const result = yield* run(yield* simInput(seed))
    const report = yield* (yield* Budget).report
    return { result, report, total: totalTally(report).calls }
  }).pipe(Effect.provide(simOptimizerLayer(seed)))

// ---------------------------------------------------------------------------------------------
// The edit-counting world: every refinement appends "[edit ...]" to a prompt, an agent's output
// shows how many edits its prompt has (`g=N`), and the local judge follows a rule on those numbers.

/** The local judge's answer for item `index` with responses a and b ("tie" names neither). */
export type LocalRule = (index: number, a: string, b: string) => "A" | "B" | "tie"
export const preferNewer: LocalRule = (_i, a, b) => (genOf(a) >= genOf(b) ? "A" : "B")
export const preferOlder: LocalRule = (_i, a, b) => (genOf(a) <= genOf(b) ? "A" : "B")

/** A request as the scripted world saw it: the role called and the last message. */
export interface SeenRequest {
  readonly role: string
  readonly content: string
}

export const editWorldReply =
  (local: LocalRule, seen: Array<SeenRequest> = []) =>
  (req: LMRequest, role: string): string => {
    const content = req.messages[req.messages.length - 1]!.content
    seen.push({ role, content })
    const comp = parseCompressionRequest(content)
    if (comp) return `c g=${genOf(comp.output)} ${shortHash(comp.output)}`
    const pair = parsePairwiseRequest(content)
    if (pair) {
      const index = Number(/question number (\d+)/.exec(pair.question)?.[1])
      const v = local(index, pair.a, pair.b)
      return v === "tie" ? "I cannot decide." : v
    }
    const refine = parseRefineRequest(content)
    if (refine) {
      return `<analysis>a</analysis><modification>m</modification><new_prompt>${refine.prompt} [edit ${req.sampleIndex} ${shortHash(content)}]</new_prompt>`
    }
    const q = /question number (\d+)/.exec(content)?.[1] ?? "?"
    return `ans ${q} g=${gen(content)} ${shortHash(content)}`
  }

/** The optimizer layers over the edit-counting world; `seen` collects every request. */
export const editWorld = (local: LocalRule, seen?: Array<SeenRequest>) =>
  scriptedOptimizerLayer(editWorldReply(local, seen))

// ---------------------------------------------------------------------------------------------
// Budget and result checks

/** Calls so far by role: [agent, optimizer, evaluator]. */
export const callsByRole = Effect.gen(function* () {
  const r = yield* (yield* Budget).report
  return [r.agent.calls, r.optimizer.calls, r.evaluator.calls]
})

/** Calls so far, all roles together. */
export const totalCalls = Effect.gen(function* () {
  return totalTally(yield* (yield* Budget).report).calls
})

/** A capped run stayed within the cap, and stopped less than its largest unit of work short of it. */
export const assertWithinCap = (total: number, cap: number, unit: number) => {
  assert.isAtMost(total, cap)
  assert.isAbove(total, cap - unit)
}

/** A run whose cap was reached from the start stopped for the budget, with the seed prompts and no call. */
export const assertStoppedBeforeWork = (input: BaselineInput, result: BaselineResult) =>
  Effect.gen(function* () {
    assert.strictEqual(result.stoppedBy, "budget")
    assert.deepStrictEqual(result.prompts, input.prompts)
    assert.deepStrictEqual(yield* callsByRole, [0, 0, 0])
  })

/**
 * A seeded run decides everything: two runs with seed 3 give the same result and spend the same, and
 * a run with seed 4 ends with other prompts. `once` runs the optimizer and reads the budget after.
 */
export const assertSeedDecides = <E>(
  once: (seed: number) => Effect.Effect<{ readonly result: BaselineResult; readonly report: BudgetReport }, E>
) =>
  Effect.gen(function* () {
    const a = yield* once(3)
    const b = yield* once(3)
    assert.deepStrictEqual(a.result, b.result)
    assert.deepStrictEqual(totalTally(a.report), totalTally(b.report))
    const c = yield* once(4)
    assert.notDeepEqual(a.result.prompts, c.result.prompts)
  })

/**
 * The simulator's solver and reviewer both have a prompt, each with sound slots and containing every
 * string of `mustInclude`.
 */
export const assertValidSimPrompts = (prompts: PromptSet, mustInclude: ReadonlyArray<string> = []) => {
  assert.deepStrictEqual(Object.keys(prompts).sort(), ["reviewer", "solver"])
  for (const prompt of Object.values(prompts)) {
    for (const s of mustInclude) assert.include(prompt, s)
    const p = slotProblems(prompt)
    assert.deepStrictEqual([p.missing, p.unknown, p.duplicated].flat(), [])
  }
}
