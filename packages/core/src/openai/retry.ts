/**
 * Pure retry rules: which statuses are transient, how long to wait before the next attempt, and
 * how to keep a secret out of any text that may end up in an error message.
 */
import type { ProviderFailureReason } from "./errors.ts"

/** The failure reason for an HTTP status the server answered with (2xx is not a failure). */
export const reasonForStatus = (status: number): ProviderFailureReason =>
  status === 429 ? "RateLimited" : status === 408 ? "Timeout" : status >= 500 ? "ServerError" : "ClientError"

/** Anything with a case-insensitive `get`, like the fetch `Headers`. */
export interface HeaderLookup {
  readonly get: (name: string) => string | null
}

const nonNegative = (n: number): number | undefined => (Number.isFinite(n) && n >= 0 ? n : undefined)

/**
 * The server's requested wait in milliseconds: `retry-after-ms` first (what the openai client reads,
 * and the only way to ask for less than a second), then `retry-after` as seconds (fractional seconds
 * accepted) or as an HTTP date relative to `nowMs`. Undefined when absent or unreadable.
 */
export const retryAfterMs = (headers: HeaderLookup | undefined, nowMs: number): number | undefined => {
  if (!headers) return undefined
  const ms = headers.get("retry-after-ms")
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) {
    const v = nonNegative(Number.parseFloat(ms))
    if (v !== undefined) return v
  }
  const after = headers.get("retry-after")
  if (after === null) return undefined
  if (/^\s*[-+]?\d+(\.\d+)?\s*$/.test(after)) return nonNegative(Number.parseFloat(after) * 1000)
  // An HTTP date always names its weekday or month; bare numbers are not dates.
  if (!/[a-z]/i.test(after)) return undefined
  const date = Date.parse(after)
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs)
}

export interface BackoffPolicy {
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

/**
 * Wait before retry number `attempt + 1` (attempt 0 = the first failure). A server's Retry-After
 * wins, capped at `maxDelayMs`; otherwise exponential backoff `baseDelayMs * 2^attempt`, capped,
 * with "equal jitter": a uniform draw `jitter` in [0, 1) picks a point in the upper half.
 */
export const retryDelayMs = (
  policy: BackoffPolicy,
  attempt: number,
  jitter: number,
  serverRetryAfterMs?: number
): number => {
  const cap = Math.max(0, policy.maxDelayMs)
  if (serverRetryAfterMs !== undefined) return Math.min(cap, Math.max(0, Math.ceil(serverRetryAfterMs)))
  const exp = Math.min(cap, Math.max(0, policy.baseDelayMs) * 2 ** Math.min(attempt, 52))
  return Math.floor(exp / 2 + (exp / 2) * Math.min(Math.max(jitter, 0), 1))
}

/** The text with every occurrence of the secret (and anything shaped like a bearer key) removed. */
export const scrubSecret = (text: string, secret: string): string => {
  let out = secret.length > 0 ? text.split(secret).join("<redacted>") : text
  out = out.replace(/\bBearer\s+[^\s"',;]+/gi, "Bearer <redacted>")
  out = out.replace(/\bsk-[A-Za-z0-9_\-*.]{4,}/g, "sk-<redacted>")
  return out
}

/** At most `max` characters, with an ellipsis when cut (server error bodies can be huge). */
export const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`
