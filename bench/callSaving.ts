/**
 * Call efficiency of the optimizer: MASPO runs with and without the judge's call-saving rules (memo,
 * identical-output skip) on the embedded simulator and on the scripted world, the decisions they
 * take, and their LLM calls per role next to the released algorithm's, measured by running the
 * paper preset on the same seeds (on the simulator; the scripted world does not play the released
 * judge requests).
 */
import {
  Budget,
  defaultRoleDefaults,
  deriveSeed,
  initialState,
  LanguageModel,
  makeTopology,
  MasExecutor,
  paperDefaults,
  type OptimizeInput,
  type OptimizerConfig,
  type OptimizerState,
  PairwiseJudge,
  Refiner,
  runMaspo,
  seedPrompts,
  stripLabels,
  templatesLayerFor,
  type TopologySpec
} from "@maspo/core"
import { arithTask, generateArithItems, simClients, simSequential } from "@maspo/core/sim"
import { evaluatorLayerFor, pairwiseEvaluatorLayer, searchLayerFor } from "@maspo/evaluators"
import { Effect, Layer } from "effect"
import {
  chain,
  items,
  preferHigherSaw,
  task as scriptedTask,
  worldLayer
} from "../packages/evaluators/test/scriptedWorld.ts"

/** LLM calls per role. */
export interface RoleCalls {
  readonly agent: number
  readonly optimizer: number
  readonly evaluator: number
}

/** The judge's call-saving rules; `true`/`false` switch both (as `evaluatorLayerFor` does). */
export type SavingRules = boolean | { readonly skipIdentical: boolean; readonly memoize: boolean }
const rulesOf = (r: SavingRules) => (typeof r === "boolean" ? { skipIdentical: r, memoize: r } : r)

/** The evaluator layer: `evaluatorLayerFor` for both rules on or off, the joint evaluator with one rule on. */
const evaluatorLayer = (config: OptimizerConfig, seed: number, rules: SavingRules) =>
  typeof rules === "boolean"
    ? evaluatorLayerFor(config, seed, rules)
    : pairwiseEvaluatorLayer({
        name: "joint",
        weights: config.weights,
        debiasPosition: config.judgePosition === "both-orders",
        candidateFirst: config.judgePosition === "candidate-first",
        tiesAtHalf: config.tiesAtHalf,
        renormalizeWeights: config.renormalizeWeights,
        lookaheadPooled: config.lookaheadPooled,
        singleJudgeRequest: config.singleJudgeRequest,
        lookaheadDepth: config.lookaheadDepth,
        seed,
        ...rules
      })

/** Everything `runMaspo` needs on the embedded simulator, with the judge rules `rules`. */
export const simOptimizerLayer = (config: OptimizerConfig, seed: number, rules: SavingRules) =>
  (typeof rules === "boolean"
    ? searchLayerFor(config, seed, rules)
    : evaluatorLayer(config, seed, rules).pipe(
        Layer.provideMerge(Layer.mergeAll(MasExecutor.layer, Refiner.layer, PairwiseJudge.layer))
      )
  ).pipe(
    Layer.provideMerge(LanguageModel.layer(simClients(), defaultRoleDefaults(seed))),
    Layer.provideMerge(Budget.layer),
    // The preset's request templates, as the CLI chooses them.
    Layer.provideMerge(templatesLayerFor(config))
  )

export interface World {
  readonly name: "simulator" | "scripted"
  readonly spec: TopologySpec
}
export const SIM_WORLD: World = { name: "simulator", spec: simSequential }
export const SCRIPTED_WORLD: World = { name: "scripted", spec: chain }

export interface RunOutcome {
  readonly state: OptimizerState
  readonly saved: { readonly memo: number; readonly identical: number }
}

/** One full MASPO run (or its first `stopAfter` entries) in `world`, as the CLI's optimize runs it. */
export const runWorld = (
  world: World,
  config: OptimizerConfig,
  seed: number,
  rules: SavingRules,
  stopAfter?: number
): Effect.Effect<RunOutcome> =>
  Effect.gen(function* () {
    const topology = yield* makeTopology(world.spec)
    const input: OptimizeInput =
      world.name === "simulator"
        ? {
            topology,
            task: arithTask,
            pool: stripLabels(generateArithItems(deriveSeed(seed, "arith-pool"), config.poolSize, "pool")),
            prompts: seedPrompts(topology),
            config,
            seed,
            concurrency: 8
          }
        : {
            topology,
            task: scriptedTask,
            pool: items.slice(0, config.poolSize),
            prompts: seedPrompts(topology),
            config,
            seed,
            concurrency: 8
          }
    const state = yield* runMaspo(input, initialState(input), stopAfter === undefined ? {} : { stopAfter })
    const saved = yield* (yield* PairwiseJudge).saved
    return { state, saved }
  }).pipe(
    Effect.provide(
      world.name === "simulator"
        ? simOptimizerLayer(config, seed, rules)
        : worldLayer(preferHigherSaw, {
            debiasPosition: config.judgePosition === "both-orders",
            seed,
            ...rulesOf(rules)
          })
    ),
    Effect.orDie
  )

/** What the search decided: final prompts, and per entry the children's rewards, acceptance and the best. */
export const decisions = (state: OptimizerState) => ({
  prompts: state.prompts,
  steps: state.log.map((s) => ({
    agentId: s.agentId,
    kind: s.kind,
    batch: s.batch,
    rewards: s.children.map((c) => c.reward),
    accepted: s.children.map((c) => c.accepted),
    beam: s.beam,
    best: s.best
  }))
})

export const callsOf = (state: OptimizerState): RoleCalls => ({
  agent: state.budget.agent.calls,
  optimizer: state.budget.optimizer.calls,
  evaluator: state.budget.evaluator.calls
})

export interface SavingComparison {
  readonly world: World["name"]
  readonly preset: string
  readonly rules: { readonly skipIdentical: boolean; readonly memoize: boolean }
  readonly seeds: ReadonlyArray<number>
  /** Seeds on which both runs took exactly the same decisions. */
  readonly sameDecisions: number
  /** Per role, summed over the seeds. */
  readonly withSaving: RoleCalls
  readonly withoutSaving: RoleCalls
  /** The paper preset's calls on the same seeds (simulator only), summed. */
  readonly reference: RoleCalls | undefined
  readonly saved: { readonly memo: number; readonly identical: number }
  /** Calls of the first step (seed 1 of the list), with saving. */
  readonly firstStep: RoleCalls
  readonly referenceFirstStep: RoleCalls | undefined
}

const add = (a: RoleCalls, b: RoleCalls): RoleCalls => ({
  agent: a.agent + b.agent,
  optimizer: a.optimizer + b.optimizer,
  evaluator: a.evaluator + b.evaluator
})
const firstStepOf = (state: OptimizerState): RoleCalls => {
  const s = state.log[0]!.budget
  return { agent: s.agent.calls, optimizer: s.optimizer.calls, evaluator: s.evaluator.calls }
}
const none: RoleCalls = { agent: 0, optimizer: 0, evaluator: 0 }

/** Runs every seed with and without the call-saving rules and compares decisions and calls. */
export const compareSaving = (
  world: World,
  preset: string,
  config: OptimizerConfig,
  seeds: ReadonlyArray<number>,
  rules: SavingRules = true
): Effect.Effect<SavingComparison> =>
  Effect.gen(function* () {
    const measureReference = world.name === "simulator"
    let reference = none
    let referenceFirstStep = none
    let same = 0
    let withSaving = none
    let withoutSaving = none
    let memo = 0
    let identical = 0
    let firstStep = none
    for (const seed of seeds) {
      const on = yield* runWorld(world, config, seed, rules)
      const off = yield* runWorld(world, config, seed, false)
      if (JSON.stringify(decisions(on.state)) === JSON.stringify(decisions(off.state))) same++
      withSaving = add(withSaving, callsOf(on.state))
      withoutSaving = add(withoutSaving, callsOf(off.state))
      memo += on.saved.memo
      identical += on.saved.identical
      if (seed === seeds[0]) firstStep = firstStepOf(on.state)
      if (measureReference) {
        const paper = yield* runWorld(world, paperDefaults, seed, true)
        reference = add(reference, callsOf(paper.state))
        if (seed === seeds[0]) referenceFirstStep = firstStepOf(paper.state)
      }
    }
    return {
      world: world.name,
      preset,
      rules: rulesOf(rules),
      seeds,
      sameDecisions: same,
      withSaving,
      withoutSaving,
      reference: measureReference ? reference : undefined,
      saved: { memo, identical },
      firstStep,
      referenceFirstStep: measureReference ? referenceFirstStep : undefined
    }
  })
