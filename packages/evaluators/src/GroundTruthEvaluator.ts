import {
  type CandidateInput,
  type CandidateScore,
  Evaluator,
  type ItemVerdict,
  MasExecutor
} from "@maspo/core"
import { Effect, Layer } from "effect"

/**
 * Scores a candidate by the task's labels: per item, 1 when only the candidate's final answer is
 * right, 0 when only the reference's is, 0.5 otherwise. For analysis only: MASPO itself never sees
 * labels.
 */
export const groundTruthEvaluatorLayer = Layer.effect(
  Evaluator,
  Effect.gen(function* () {
    const executor = yield* MasExecutor
    const score = Effect.fn("Evaluator.score")(function* (input: CandidateInput) {
      const perItem = yield* Effect.forEach(
        input.reference,
        ({ item, trace: ref }) =>
          Effect.gen(function* () {
            const cand = yield* executor.rerunFrom(
              input.topology,
              input.candidatePrompts,
              input.task,
              item,
              ref,
              input.agentId
            )
            const r = yield* input.task.score(item, ref.finalOutput)
            const c = yield* input.task.score(item, cand.finalOutput)
            const verdict: ItemVerdict = { itemId: item.id, global: c > r ? 1 : c < r ? 0 : 0.5 }
            return { verdict, trace: cand }
          }),
        { concurrency: "unbounded" }
      )
      const wins = perItem.map((p) => p.verdict.global!)
      const rate = wins.reduce((a, b) => a + b, 0) / Math.max(1, wins.length)
      const result: CandidateScore = {
        reward: rate - 0.5,
        levels: { global: rate },
        verdicts: perItem.map((p) => p.verdict),
        traces: perItem.map((p) => p.trace)
      }
      return result
    })
    return Evaluator.of({ name: "ground-truth", score })
  })
)
