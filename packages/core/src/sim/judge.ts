import { sha256Hex } from "../canonical.ts"
import { parsePairwiseRequest } from "../protocol.ts"
import { unitFromParts } from "../random.ts"
import { chainValues, extractArith, parseProblem } from "./items.ts"
import type { SimParams } from "./model.ts"

/**
 * The evaluator role: a noisy pairwise oracle. It prefers the correct output with probability
 * `judgeAccuracy` when exactly one is correct; on a tie it answers "A" with probability
 * `positionBias`, otherwise prefers the shorter output with probability 0.5 + `brevityBias`.
 */
export const judgeReply = (content: string, seed: number, sampleIndex: number, params: SimParams): string => {
  const request = parsePairwiseRequest(content)
  if (!request) return "A"
  const problem = parseProblem(request.question)
  const gold = problem ? String(chainValues(problem).at(-1)) : undefined
  const right = (text: string) => gold !== undefined && extractArith(text) === gold
  const ra = right(request.a)
  const rb = right(request.b)
  const u = unitFromParts("sim-judge", seed, sampleIndex, sha256Hex(content))
  if (ra !== rb) return u < params.judgeAccuracy === ra ? "A" : "B"
  if (u < params.positionBias) return "A"
  const v = (u - params.positionBias) / (1 - params.positionBias)
  if (request.a.length === request.b.length) return v < 0.5 ? "A" : "B"
  const shorterIsA = request.a.length < request.b.length
  return v < 0.5 + params.brevityBias === shorterIsA ? "A" : "B"
}
