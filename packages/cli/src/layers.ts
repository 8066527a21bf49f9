import {
  MasExecutor,
  type OptimizerConfig,
  PairwiseJudge,
  Refiner,
  type RoleClients,
  type RunConfig,
  type TemplateSet
} from "@maspo/core"
import { evaluatorLayerFor } from "@maspo/evaluators"
import { Layer } from "effect"
import { languageModelLayer } from "./providers.ts"
import { templatesLayer } from "./templates.ts"

/**
 * LanguageModel, Budget and the executor: enough to evaluate a system. Requests are built from
 * `templates` (maspo's own set when absent).
 */
export const systemLayer = (config: RunConfig, simulator?: RoleClients, templates?: TemplateSet) =>
  MasExecutor.layer.pipe(
    Layer.provideMerge(languageModelLayer(config, simulator, templates)),
    Layer.provideMerge(templates ? templatesLayer(templates) : Layer.empty)
  )

/** Everything MASPO needs, with the evaluator the optimizer config asks for. */
export const optimizerLayer = (
  config: RunConfig,
  optimizer: OptimizerConfig,
  simulator?: RoleClients,
  templates?: TemplateSet
) =>
  evaluatorLayerFor(optimizer, config.seed).pipe(
    Layer.provideMerge(Layer.mergeAll(MasExecutor.layer, Refiner.layer, PairwiseJudge.layer)),
    Layer.provideMerge(languageModelLayer(config, simulator, templates)),
    Layer.provideMerge(templates ? templatesLayer(templates) : Layer.empty)
  )
