import { Schema } from "effect"
import { canonicalJson, sha256Hex } from "../canonical.ts"
import { type LMRequest, Message } from "../LanguageModel.ts"

/** Version of the key layout; bump it when the key input changes meaning. */
export const CACHE_KEY_VERSION = 1 as const

/** Provider-specific request body fields that can change the answer (JSON values only). */
export const ExtraBody = Schema.Record(Schema.String, Schema.Json)
export type ExtraBody = typeof ExtraBody.Type

/**
 * Everything that can change a model's answer, and nothing else: no base URL (the same model served
 * at another address must replay), no headers, no API key. The stored request is exactly this.
 */
export const CacheKeyInput = Schema.Struct({
  v: Schema.Literal(CACHE_KEY_VERSION),
  /** Provider kind, e.g. "openai" or "sim". */
  provider: Schema.String,
  model: Schema.String,
  messages: Schema.Array(Message),
  temperature: Schema.Number,
  maxTokens: Schema.Number,
  seed: Schema.Number,
  sampleIndex: Schema.Number,
  extraBody: ExtraBody
})
export type CacheKeyInput = typeof CacheKeyInput.Type

/** The key input of one request sent to a provider of kind `provider`. */
export const cacheKeyInput = (
  provider: string,
  request: LMRequest,
  extraBody: ExtraBody = {}
): CacheKeyInput => ({
  v: CACHE_KEY_VERSION,
  provider,
  model: request.model,
  messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
  temperature: request.temperature,
  maxTokens: request.maxTokens,
  seed: request.seed,
  sampleIndex: request.sampleIndex,
  extraBody
})

const str = JSON.stringify

/**
 * Canonical (key-order independent) JSON of a key input: what the store keeps as `request`. The
 * same bytes as `canonicalJson(input)` (a property test holds them equal), written field by field in
 * sorted order: every call is keyed, and sorting and copying the whole request cost more than the
 * lookup itself.
 */
export const canonicalRequest = (input: CacheKeyInput): string => {
  let messages = ""
  for (const m of input.messages) {
    messages += `${messages === "" ? "" : ","}{"content":${str(m.content)},"role":${str(m.role)}}`
  }
  return (
    `{"extraBody":${canonicalJson(input.extraBody)},"maxTokens":${str(input.maxTokens)},` +
    `"messages":[${messages}],"model":${str(input.model)},"provider":${str(input.provider)},` +
    `"sampleIndex":${str(input.sampleIndex)},"seed":${str(input.seed)},` +
    `"temperature":${str(input.temperature)},"v":${str(input.v)}}`
  )
}

/** sha256 hex of the canonical JSON of the key input. Pure. */
export const cacheKey = (input: CacheKeyInput): string => sha256Hex(canonicalRequest(input))
