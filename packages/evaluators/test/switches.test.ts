import { assert, describe, it } from "@effect/vitest"
import {
  Budget,
  initialState,
  type LMRequest,
  makeTopology,
  MasExecutor,
  maspoDefaults,
  type OptimizeInput,
  type OptimizerConfig,
  type OptimizerState,
  paperDefaults,
  parseCompressionRequest,
  parsePairwiseRequest,
  parseRefineRequest,
  runMaspo,
  schedule,
  scriptedLanguageModel,
  seedPrompts,
  sha256Hex
} from "@maspo/core"
import { Effect, Layer } from "effect"
import { searchLayerFor } from "../src/index.ts"
import { chain, items, task } from "./scriptedWorld.ts"

/**
 * Each switch whose effect the simulator rarely or never shows, pinned in a scripted world built to
 * show it: the run with the switch at its paper value and at its maspo value must differ in what the
 * switch governs.
 */

interface World {
  /** The optimizer's reply for one proposal call (sampleIndex = the part of the batch). */
  readonly propose?: (prompt: string, sampleIndex: number) => string
  /** The judge's reply (default: prefer the response with more edits, A on ties). */
  readonly judge?: (a: string, b: string) => string
  /** An agent's output (default: depends on its whole message, so it tracks prompt and context). */
  readonly answer?: (content: string) => string
  readonly compress?: (output: string) => string
}

const edits = (text: string) => (text.match(/\[edit/g) ?? []).length

const replyFor =
  (w: World) =>
  (req: LMRequest): string => {
    const content = req.messages[req.messages.length - 1]!.content
    const comp = parseCompressionRequest(content)
    if (comp) return w.compress ? w.compress(comp.output) : `c ${sha256Hex(comp.output).slice(0, 8)}`
    const pair = parsePairwiseRequest(content)
    if (pair) return w.judge ? w.judge(pair.a, pair.b) : edits(pair.a) >= edits(pair.b) ? "A" : "B"
    const refine = parseRefineRequest(content)
    if (refine)
      return w.propose
        ? w.propose(refine.prompt, req.sampleIndex ?? 0)
        : `<new_prompt>${refine.prompt} [edit ${req.sampleIndex} ${sha256Hex(content).slice(0, 6)}]</new_prompt>`
    return w.answer ? w.answer(content) : `out ${edits(content)} ${sha256Hex(content).slice(0, 8)}`
  }

const small = (c: OptimizerConfig): OptimizerConfig => ({ ...c, rounds: 2, stepsPerVisit: 1, batchSize: 4 })

/**
 * The paper preset asking maspo's requests: this world reads and answers maspo's wording, and each
 * switch here acts whatever the template set (the paper set's requests: paperTemplates.test.ts).
 */
const paperSwitches = (c: OptimizerConfig = paperDefaults): OptimizerConfig =>
  small({ ...c, templateSet: "maspo", singleJudgeRequest: true })

const run = (
  config: OptimizerConfig,
  world: World,
  prepare: (input: OptimizeInput, s: OptimizerState) => OptimizerState = (_i, s) => s,
  stopAfter?: number
) =>
  Effect.gen(function* () {
    const topology = yield* makeTopology(chain)
    const input: OptimizeInput = {
      topology,
      task,
      pool: items,
      prompts: seedPrompts(topology),
      config,
      seed: 7,
      concurrency: 4
    }
    const state = yield* runMaspo(
      input,
      prepare(input, initialState(input)),
      stopAfter === undefined ? {} : { stopAfter }
    )
    return { state, budget: yield* (yield* Budget).report }
  }).pipe(
    Effect.provide(searchLayerFor(config, 7).pipe(Layer.provideMerge(scriptedLanguageModel(replyFor(world)))))
  )

/** The same run with one switch at its paper value and at its maspo value. */
const both = (
  name: keyof OptimizerConfig,
  world: World,
  base: OptimizerConfig = paperSwitches(),
  stop?: number
) =>
  Effect.all([
    run({ ...base, [name]: paperDefaults[name] } as OptimizerConfig, world, undefined, stop),
    run({ ...base, [name]: maspoDefaults[name] } as OptimizerConfig, world, undefined, stop)
  ])

describe("switches the simulator does not show", () => {
  it.effect("dedupeBeam: two proposals equal to the parent leave two copies of it, or one", () =>
    Effect.gen(function* () {
      const world: World = { propose: (prompt) => `<new_prompt>${prompt}</new_prompt>` }
      const [paper, maspo] = yield* both("dedupeBeam", world, paperSwitches(), 1)
      const seed = seedPrompts(yield* makeTopology(chain))["solver"]!
      // Released: each parent-equal proposal is a parent copy, kept with its duplicate.
      assert.deepStrictEqual(paper.state.agents["solver"]!.beam, [
        { prompt: seed, score: 0 },
        { prompt: seed, score: 0 }
      ])
      assert.deepStrictEqual(maspo.state.agents["solver"]!.beam, [{ prompt: seed, score: 0 }])
    })
  )

  it.effect(
    "failedProposalKeepsParent: an unparsable reply adds a copy of the parent next to the child",
    () =>
      Effect.gen(function* () {
        const world: World = {
          propose: (prompt, i) => (i === 0 ? "no tag here" : `<new_prompt>${prompt} [edit 1]</new_prompt>`)
        }
        const [paper, maspo] = yield* both("failedProposalKeepsParent", world, paperSwitches(), 1)
        assert.strictEqual(paper.state.agents["solver"]!.beam.length, 2)
        assert.strictEqual(maspo.state.agents["solver"]!.beam.length, 1)
        assert.include(maspo.state.agents["solver"]!.beam[0]!.prompt, "[edit 1]")
      })
  )

  it.effect(
    "latexAwareSlots: a proposal holding \\boxed{x} falls back to the parent, or is a candidate",
    () =>
      Effect.gen(function* () {
        const world: World = {
          propose: (prompt) => `<new_prompt>${prompt} [edit] Put it in \\boxed{x}.</new_prompt>`
        }
        const [paper, maspo] = yield* both("latexAwareSlots", world, paperSwitches(), 1)
        assert.strictEqual(paper.state.log[0]!.children.length, 0)
        assert.strictEqual(paper.budget.evaluator.calls, 0)
        assert.strictEqual(maspo.state.log[0]!.children.length, 1)
      })
  )

  it.effect("tiesAtHalf: a verdict the set cannot read is a loss, or a tie", () =>
    Effect.gen(function* () {
      // maspo's set declares no meaning for a reply naming no letter (the paper set's does: a
      // candidate win, paperTemplates.test.ts).
      const [paper, maspo] = yield* both("tiesAtHalf", { judge: () => "no idea" }, paperSwitches(), 1)
      assert.deepStrictEqual(
        paper.state.log[0]!.children.map((c) => c.reward),
        [-0.5, -0.5]
      )
      assert.deepStrictEqual(
        maspo.state.log[0]!.children.map((c) => c.reward),
        [0, 0]
      )
    })
  )

  it.effect("skipIdenticalOutputs (both orders): identical outputs cost no judge call", () =>
    Effect.gen(function* () {
      const world: World = { answer: () => "ans 1", compress: () => "c" }
      const base = paperSwitches({ ...paperDefaults, judgePosition: "both-orders" })
      const [paper, maspo] = yield* both("skipIdenticalOutputs", world, base, 1)
      assert.strictEqual(paper.budget.evaluator.calls, 2 * 4 * 3 * 2)
      assert.strictEqual(maspo.budget.evaluator.calls, 0)
    })
  )

  it.effect("enforceWordLimit and labelledContext: what the successor receives", () =>
    Effect.gen(function* () {
      const long = Array.from({ length: 40 }, (_, i) => `w${i}`).join(" ")
      const topology = yield* makeTopology(chain)
      const received = (options: { labelledContext: boolean; enforceWordLimit: boolean }) =>
        Effect.gen(function* () {
          const executor = yield* MasExecutor
          const trace = yield* executor.run(topology, seedPrompts(topology), task, items[0]!)
          return trace.agents[1]!.context
        }).pipe(
          Effect.provide(
            MasExecutor.layerWith(options).pipe(
              Layer.provideMerge(scriptedLanguageModel(replyFor({ compress: () => long })))
            )
          )
        )
      assert.strictEqual(yield* received({ labelledContext: false, enforceWordLimit: false }), long)
      assert.strictEqual(
        yield* received({ labelledContext: true, enforceWordLimit: true }),
        `[solver] ${long.split(" ").slice(0, 30).join(" ")}`
      )
    })
  )

  it.effect("lookaheadPooled: a successor comparison with an empty output is skipped, or asked", () =>
    Effect.gen(function* () {
      const world: World = {
        answer: (content) =>
          content.startsWith("Review") ? "" : `out ${edits(content)} ${sha256Hex(content).slice(0, 8)}`
      }
      const [paper, maspo] = yield* both("lookaheadPooled", world, paperSwitches(), 1)
      // Released: local + global per item and candidate (2 x 4 x 2); ours adds the lookahead one.
      assert.strictEqual(paper.budget.evaluator.calls, 2 * 4 * 2)
      assert.strictEqual(maspo.budget.evaluator.calls, 2 * 4 * 3)
      assert.isUndefined(paper.state.log[0]!.children[0]!.lookahead)
    })
  )

  it.effect("skipIdleRefreshRun and keepBestOnRefresh act on the refresh that opens a revisit", () =>
    Effect.gen(function* () {
      const config = paperSwitches()
      const topology = yield* makeTopology(chain)
      const plan = schedule(topology, config)
      const refresh = plan.findIndex((e) => e.kind === "refresh" && e.agentId === "solver")
      const seed = seedPrompts(topology)["solver"]!
      const at =
        (beam: Array<{ prompt: string; score: number }>) =>
        (_i: OptimizeInput, s: OptimizerState): OptimizerState => ({
          ...s,
          cursor: refresh,
          agents: { ...s.agents, solver: { ...s.agents["solver"]!, beam } }
        })
      // Every member is the best: the released refresh still runs the system (4 items x 4 calls).
      const idle = [
        { prompt: seed, score: 0.2 },
        { prompt: seed, score: 0.1 }
      ]
      const runIdle = (v: boolean) => run({ ...config, skipIdleRefreshRun: v }, {}, at(idle), 1)
      assert.strictEqual((yield* runIdle(false)).budget.agent.calls, 16)
      assert.strictEqual((yield* runIdle(true)).budget.agent.calls, 0)
      // The best is not in the beam: maspo puts it back, the released refresh does not.
      const away = [
        { prompt: `${seed} [edit a]`, score: 0.2 },
        { prompt: `${seed} [edit b]`, score: 0.1 }
      ]
      const runAway = (v: boolean) => run({ ...config, keepBestOnRefresh: v }, {}, at(away), 1)
      assert.strictEqual((yield* runAway(false)).state.agents["solver"]!.beam.length, 2)
      assert.strictEqual((yield* runAway(true)).state.agents["solver"]!.beam.length, 3)
    })
  )
})
