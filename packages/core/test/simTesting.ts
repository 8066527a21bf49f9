import { Effect, Layer } from "effect"
import {
  Budget,
  defaultRoleDefaults,
  evaluateSystem,
  LanguageModel,
  makeTopology,
  MasExecutor,
  type PromptSet,
  type TaskItem,
  type TopologySpec
} from "@maspo/core"
import { arithTask, simClients } from "@maspo/core/sim"

/** Executor + LanguageModel + Budget on the embedded simulator with a run seed. */
export const simSystemLayer = (seed: number) =>
  MasExecutor.layer.pipe(
    Layer.provideMerge(LanguageModel.layer(simClients(), defaultRoleDefaults(seed))),
    Layer.provideMerge(Budget.layer)
  )

/** Per-item scores (0/1) of a prompt set, through the real executor. */
export const simScores = (
  spec: TopologySpec,
  prompts: PromptSet,
  items: ReadonlyArray<TaskItem>,
  seed: number
) =>
  Effect.gen(function* () {
    const topology = yield* makeTopology(spec)
    const result = yield* evaluateSystem(topology, prompts, arithTask, items, { concurrency: 16 })
    return result.scored.map((s) => s.score)
  }).pipe(Effect.provide(simSystemLayer(seed)))
