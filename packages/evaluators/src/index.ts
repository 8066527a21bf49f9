import type { OptimizerConfig } from "@maspo/core"
import { groundTruthEvaluatorLayer } from "./GroundTruthEvaluator.ts"
import { pairwiseEvaluatorLayer } from "./PairwiseEvaluator.ts"

export * from "./GroundTruthEvaluator.ts"
export * from "./PairwiseEvaluator.ts"

/** The evaluator layer an optimizer config asks for. */
export const evaluatorLayerFor = (config: OptimizerConfig, seed: number, callSaving = true) => {
  const base = {
    debiasPosition: config.debiasPosition,
    singleJudgeRequest: config.singleJudgeRequest,
    lookaheadDepth: config.lookaheadDepth,
    seed,
    // Asked in one order, a judge still answers A or B for two identical outputs (the position coin
    // then makes it a win or a loss), so skipping them would change decisions; asked in both orders,
    // a deterministic judge's answers cancel to the tie the skip records.
    skipIdentical: callSaving && config.debiasPosition,
    memoize: callSaving
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
