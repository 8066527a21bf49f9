import {
  defaultExecutorOptions,
  type ExecutorOptions,
  MasExecutor,
  type OptimizerConfig,
  type RoleClients,
  type RunConfig,
  type TemplateSet
} from "@maspo/core"
import { searchLayerFor } from "@maspo/evaluators"
import { Layer } from "effect"
import { languageModelLayer } from "./providers.ts"
import { templatesLayer } from "./templates.ts"

/**
 * LanguageModel, Budget and the executor: enough to evaluate a system. Requests are built from
 * `templates` (maspo's own set when absent).
 */
export const systemLayer = (
  config: RunConfig,
  simulator?: RoleClients,
  templates?: TemplateSet,
  executor: ExecutorOptions = defaultExecutorOptions
) =>
  MasExecutor.layerWith(executor).pipe(
    Layer.provideMerge(languageModelLayer(config, simulator, templates)),
    Layer.provideMerge(templates ? templatesLayer(templates) : Layer.empty)
  )

/** Everything MASPO needs, with the evaluator and the switches the optimizer config asks for. */
export const optimizerLayer = (
  config: RunConfig,
  optimizer: OptimizerConfig,
  simulator?: RoleClients,
  templates?: TemplateSet
) =>
  searchLayerFor(optimizer, config.seed).pipe(
    Layer.provideMerge(languageModelLayer(config, simulator, templates)),
    Layer.provideMerge(templates ? templatesLayer(templates) : Layer.empty)
  )
