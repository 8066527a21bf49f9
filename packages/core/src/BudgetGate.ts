import { Schema } from "effect"

/**
 * The admission rule behind a budget cap, as pure functions over the gate's state, so the property
 * tests can drive it with any interleaving of reservations and settlements.
 *
 * A call is admitted only if the calls and tokens already used, plus everything reserved by calls
 * still in flight, plus this call's own upper bound, stay within the cap. The first refusal closes
 * the gate: no later call is admitted even if it would fit, so a run stops at the first call that
 * could cross the cap instead of squeezing in smaller calls after it (which would make the stopping
 * point depend on the order concurrent calls happen to arrive in).
 */

/** A cap on calls and tokens (prompt + completion, all roles); absent fields mean no cap. */
export const BudgetCap = Schema.Struct({
  maxCalls: Schema.optional(Schema.Int),
  maxTokens: Schema.optional(Schema.Int)
})
export type BudgetCap = typeof BudgetCap.Type

export const isCapped = (cap: BudgetCap): boolean => cap.maxCalls !== undefined || cap.maxTokens !== undefined

/** Calls and tokens (prompt + completion). */
export interface Spend {
  readonly calls: number
  readonly tokens: number
}

export const noSpend: Spend = { calls: 0, tokens: 0 }

export interface GateState {
  /** Upper bounds of the calls admitted and not yet settled. */
  readonly reserved: Spend
  /** True once a call was refused: every later call is refused too. */
  readonly closed: boolean
}

export const openGate: GateState = { reserved: noSpend, closed: false }

const fits = (used: Spend, reserved: Spend, claim: Spend, cap: BudgetCap): boolean =>
  (cap.maxCalls === undefined || used.calls + reserved.calls + claim.calls <= cap.maxCalls) &&
  (cap.maxTokens === undefined || used.tokens + reserved.tokens + claim.tokens <= cap.maxTokens)

/** Admits `claim` (one call and its token bound) or refuses it, closing the gate. */
export const admit = (
  gate: GateState,
  used: Spend,
  claim: Spend,
  cap: BudgetCap
): { readonly admitted: boolean; readonly gate: GateState } => {
  if (!gate.closed && fits(used, gate.reserved, claim, cap))
    return {
      admitted: true,
      gate: {
        ...gate,
        reserved: { calls: gate.reserved.calls + claim.calls, tokens: gate.reserved.tokens + claim.tokens }
      }
    }
  return { admitted: false, gate: { ...gate, closed: true } }
}

/**
 * Drops an admitted claim from the reservations, when its call completed (its real usage is then
 * counted as used) or failed. A completed call that used more than its bound (a provider whose count
 * exceeded our estimate) can push the used figure past the cap; the gate then closes, so the overshoot
 * stays that one call's excess and is reported, never hidden.
 */
export const release = (gate: GateState, claim: Spend, usedAfter: Spend, cap: BudgetCap): GateState => ({
  reserved: { calls: gate.reserved.calls - claim.calls, tokens: gate.reserved.tokens - claim.tokens },
  closed: gate.closed || overshoot(usedAfter, cap).calls > 0 || overshoot(usedAfter, cap).tokens > 0
})

/** How far `used` is past the cap (zero when within it). */
export const overshoot = (used: Spend, cap: BudgetCap): Spend => ({
  calls: cap.maxCalls === undefined ? 0 : Math.max(0, used.calls - cap.maxCalls),
  tokens: cap.maxTokens === undefined ? 0 : Math.max(0, used.tokens - cap.maxTokens)
})

/**
 * Chat-template tokens a provider may add per message (role headers, separators) and per request
 * (reply priming, a default system header). Generous on purpose: the OpenAI format adds about 4 per
 * message and 3 per request; Llama 3's template about 5 per message and up to ~30 for its default
 * system header.
 */
export const MESSAGE_TOKEN_ALLOWANCE = 16
export const REQUEST_TOKEN_ALLOWANCE = 64

const encoder = new TextEncoder()
const utf8Length = (text: string): number => {
  // Fast path: all code units below 0x80 are one byte each.
  let ascii = true
  for (let i = 0; i < text.length; i++)
    if (text.charCodeAt(i) >= 0x80) {
      ascii = false
      break
    }
  return ascii ? text.length : encoder.encode(text).length
}

/**
 * An upper bound of the prompt tokens any byte-level BPE tokenizer (GPT, Llama 3, Qwen, Mistral with
 * byte fallback) counts for these messages: every token covers at least one UTF-8 byte, so a text
 * never has more tokens than bytes; the template's tokens are covered by the allowances above.
 */
export const promptTokenBound = (messages: ReadonlyArray<{ readonly content: string }>): number =>
  messages.reduce((n, m) => n + utf8Length(m.content) + MESSAGE_TOKEN_ALLOWANCE, REQUEST_TOKEN_ALLOWANCE)
