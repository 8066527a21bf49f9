import { sha256Hex } from "../canonical.ts"
import type { ReadRequest } from "../templates/requests.ts"
import { unitFromParts } from "../random.ts"
import { chainValues, extractArith, parseProblem } from "./items.ts"
import type { SimParams } from "./model.ts"

/**
 * The evaluator role: a noisy pairwise oracle. It prefers the correct output with probability
 * `judgeAccuracy` when exactly one is correct; on a tie it answers "A" with probability
 * `positionBias`, otherwise prefers a bare answer over a worked one with probability 0.5 +
 * `brevityBias` (a crisp answer looks confident), and is indifferent between two worked outputs.
 */
export const judgeReply = (
  request: Extract<ReadRequest, { question: string }>,
  content: string,
  seed: number,
  sampleIndex: number,
  params: SimParams
): string => {
  const letter = judgeLetter(request, content, seed, sampleIndex, params)
  // In the reply format the template declares: a bare letter for maspo's letter rule, else the tag.
  const format = request.template.file.reply
  return format?.verdictRule === "tag-else-last-letter"
    ? `<${format.verdictTag ?? "choose"}>${letter}</${format.verdictTag ?? "choose"}>`
    : letter
}

const judgeLetter = (
  request: Extract<ReadRequest, { question: string }>,
  content: string,
  seed: number,
  sampleIndex: number,
  params: SimParams
): "A" | "B" => {
  const problem = parseProblem(request.question)
  const gold = problem ? String(chainValues(problem).at(-1)) : undefined
  const right = (text: string) => gold !== undefined && extractArith(text) === gold
  const ra = right(request.a)
  const rb = right(request.b)
  const u = unitFromParts("sim-judge", seed, sampleIndex, sha256Hex(content))
  if (ra !== rb) return u < params.judgeAccuracy === ra ? "A" : "B"
  if (u < params.positionBias) return "A"
  const v = (u - params.positionBias) / (1 - params.positionBias)
  const ba = isBareOutput(request.a)
  const bb = isBareOutput(request.b)
  if (ba === bb) return v < 0.5 ? "A" : "B"
  return v < 0.5 + params.brevityBias === ba ? "A" : "B"
}

/** An output that is nothing but its answer (tags and a stray revision note aside). */
export const isBareOutput = (text: string): boolean =>
  /^-?\d+$/.test(
    text
      .replace(/<\/?answer>/g, "")
      .replace(/\(revision \d+\)/, "")
      .trim()
  )
