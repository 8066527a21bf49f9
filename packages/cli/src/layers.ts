import {
  defaultExecutorOptions,
  type ExecutorOptions,
  MasExecutor,
  type OptimizerConfig,
  type RoleClients,
  type RunConfig
} from "@maspo/core"
import { searchLayerFor } from "@maspo/evaluators"
import { Layer } from "effect"
import { languageModelLayer } from "./providers.ts"

/** LanguageModel, Budget and the executor: enough to evaluate a system. */
export const systemLayer = (
  config: RunConfig,
  simulator?: RoleClients,
  executor: ExecutorOptions = defaultExecutorOptions
) => MasExecutor.layerWith(executor).pipe(Layer.provideMerge(languageModelLayer(config, simulator)))

/** Everything MASPO needs, with the evaluator and the switches the optimizer config asks for. */
export const optimizerLayer = (config: RunConfig, optimizer: OptimizerConfig, simulator?: RoleClients) =>
  searchLayerFor(optimizer, config.seed).pipe(Layer.provideMerge(languageModelLayer(config, simulator)))
