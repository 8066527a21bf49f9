import {
  Budget,
  evaluateRunner,
  evaluateSystem,
  InputError,
  makeTopology,
  type PromptSet,
  resolvePrompts,
  type RunConfig,
  seedPrompts
} from "@maspo/core"
import { selfRefine } from "@maspo/baselines"
import { Effect } from "effect"
import { systemLayer } from "./layers.ts"
import { lookupTopology, openTask, SELF_REFINE } from "./registry.ts"
import { resolveTemplates } from "./templates.ts"

export interface FixedEvaluation<E, R> {
  /** The system to run: a topology of the task, or `self-refine` (a runner of its own). */
  readonly system: string
  /** Test items to use (all when absent or 0). */
  readonly testN?: number | undefined
  readonly refineRounds?: number
  /** The prompt set, given the topology's seed prompts; checked against the topology. */
  readonly promptsOf: (seeds: PromptSet) => Effect.Effect<PromptSet, E, R>
  /** Named in the error when the prompt set does not fit the topology. */
  readonly promptsSource: string
}

/**
 * Runs a fixed prompt set (seed, given or transferred prompts; or self-refine) on a task's held-out
 * test items. `maspo eval` and the experiment runner's unoptimized, single-agent and transfer rows
 * both use it.
 */
export const evaluateFixed = Effect.fn("evaluateFixed")(function* <E, R>(
  run: RunConfig,
  spec: FixedEvaluation<E, R>
) {
  const templates = yield* resolveTemplates(run)
  const entry = yield* openTask(run, undefined, templates)
  const items = spec.testN ? entry.test.slice(0, spec.testN) : entry.test
  const topology =
    spec.system === SELF_REFINE ? undefined : yield* makeTopology(yield* lookupTopology(entry, spec.system))
  const prompts = topology
    ? yield* resolvePrompts(topology, yield* spec.promptsOf(seedPrompts(topology))).pipe(
        Effect.mapError((e) => new InputError({ source: spec.promptsSource, message: e.message }))
      )
    : {}
  const { result, budget } = yield* Effect.gen(function* () {
    const options = { concurrency: run.concurrency }
    const result = topology
      ? yield* evaluateSystem(topology, prompts, entry.task, items, options)
      : yield* evaluateRunner(selfRefine(entry.task, spec.refineRounds), entry.task, items, options)
    return { result, budget: yield* (yield* Budget).report }
  }).pipe(Effect.provide(systemLayer(run, entry.simulator, templates)))
  return { entry, items, prompts, result, budget, templates }
})
