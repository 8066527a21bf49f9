import { MasExecutor, type OptimizerConfig, PairwiseJudge, Refiner } from "@maspo/core"
import { Layer } from "effect"
import { groundTruthEvaluatorLayer } from "./GroundTruthEvaluator.ts"
import { pairwiseEvaluatorLayer } from "./PairwiseEvaluator.ts"

export * from "./GroundTruthEvaluator.ts"
export * from "./PairwiseEvaluator.ts"

/** The evaluator layer an optimizer config asks for. */
export const evaluatorLayerFor = (config: OptimizerConfig, seed: number, callSaving = true) => {
  const bothOrders = config.judgePosition === "both-orders"
  const base = {
    debiasPosition: bothOrders,
    candidateFirst: config.judgePosition === "candidate-first",
    tiesAtHalf: config.tiesAtHalf,
    renormalizeWeights: config.renormalizeWeights,
    lookaheadPooled: config.lookaheadPooled,
    singleJudgeRequest: config.singleJudgeRequest,
    lookaheadDepth: config.lookaheadDepth,
    seed,
    // Asked in one order, a judge still answers A or B for two identical outputs (the position coin
    // then makes it a win or a loss), so skipping them would change decisions; asked in both orders,
    // a deterministic judge's answers cancel to the tie the skip records.
    skipIdentical: callSaving && config.skipIdenticalOutputs && bothOrders,
    memoize: callSaving && config.judgeMemo
  }
  switch (config.evaluator) {
    case "joint":
      return pairwiseEvaluatorLayer({ ...base, name: "joint", weights: config.weights })
    case "local":
      return pairwiseEvaluatorLayer({
        ...base,
        name: "local-only",
        weights: { local: 1, lookahead: 0, global: 0 }
      })
    case "global":
      return pairwiseEvaluatorLayer({
        ...base,
        name: "global-only",
        weights: { local: 0, lookahead: 0, global: 1 }
      })
    case "ground-truth":
      return groundTruthEvaluatorLayer
  }
}

/** The executor, refiner and judge an optimizer config's switches ask for, under its evaluator. */
export const searchLayerFor = (config: OptimizerConfig, seed: number, callSaving = true) =>
  evaluatorLayerFor(config, seed, callSaving).pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        MasExecutor.layerWith({
          labelledContext: config.labelledContext,
          enforceWordLimit: config.enforceWordLimit
        }),
        Refiner.layerWith({ latexAwareSlots: config.latexAwareSlots }),
        PairwiseJudge.layer
      )
    )
  )
