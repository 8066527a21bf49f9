import type { Usage } from "../LanguageModel.ts"

/** What a valid chat.completion body holds for us, or why it is not one. */
export type ParsedCompletion =
  | { readonly _tag: "Completion"; readonly text: string; readonly usage: Usage | undefined }
  | { readonly _tag: "Invalid"; readonly reason: string }

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const count = (u: unknown): number | undefined =>
  typeof u === "number" && Number.isFinite(u) && u >= 0 ? u : undefined

/** The `usage` block when both token counts are present and sane. */
export const parseUsage = (u: unknown): Usage | undefined => {
  if (!isRecord(u)) return undefined
  const promptTokens = count(u["prompt_tokens"])
  const completionTokens = count(u["completion_tokens"])
  return promptTokens === undefined || completionTokens === undefined
    ? undefined
    : { promptTokens, completionTokens }
}

/**
 * Reads `choices[0].message.content` and `usage` from a decoded chat.completion body. Anything else
 * (a string body, no choices, a null or non-string content) is `Invalid` with a reason.
 */
export const parseCompletion = (body: unknown): ParsedCompletion => {
  if (!isRecord(body)) return { _tag: "Invalid", reason: "response body is not a JSON object" }
  const choices = body["choices"]
  if (!Array.isArray(choices)) return { _tag: "Invalid", reason: "response has no choices array" }
  if (choices.length === 0) return { _tag: "Invalid", reason: "response has an empty choices array" }
  const first: unknown = choices[0]
  if (!isRecord(first) || !isRecord(first["message"]))
    return { _tag: "Invalid", reason: "choices[0] has no message" }
  const content = first["message"]["content"]
  if (typeof content !== "string")
    return { _tag: "Invalid", reason: "choices[0].message.content is not a string" }
  return { _tag: "Completion", text: content, usage: parseUsage(body["usage"]) }
}
