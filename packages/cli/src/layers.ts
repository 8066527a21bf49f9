import {
  MasExecutor,
  type OptimizerConfig,
  PairwiseJudge,
  Refiner,
  type RoleClients,
  type RunConfig
} from "@maspo/core"
import { evaluatorLayerFor } from "@maspo/evaluators"
import { Layer } from "effect"
import { languageModelLayer } from "./providers.ts"

/** LanguageModel, Budget and the executor: enough to evaluate a system. */
export const systemLayer = (config: RunConfig, simulator?: RoleClients) =>
  MasExecutor.layer.pipe(Layer.provideMerge(languageModelLayer(config, simulator)))

/** Everything MASPO needs, with the evaluator the optimizer config asks for. */
export const optimizerLayer = (config: RunConfig, optimizer: OptimizerConfig, simulator?: RoleClients) =>
  evaluatorLayerFor(optimizer, config.seed).pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        MasExecutor.layerWith({
          labelledContext: optimizer.labelledContext,
          enforceWordLimit: optimizer.enforceWordLimit
        }),
        Refiner.layerWith({ latexAwareSlots: optimizer.latexAwareSlots }),
        PairwiseJudge.layer
      )
    ),
    Layer.provideMerge(languageModelLayer(config, simulator))
  )
