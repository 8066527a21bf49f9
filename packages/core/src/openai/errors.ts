import { Schema } from "effect"

/**
 * Why one HTTP attempt failed. Every reason but `ClientError` is transient and retried (bounded by
 * `maxRetries`); a `ClientError` (400/401/403/404/422 and any other 4xx but 408/429) fails at once.
 */
export const ProviderFailureReason = Schema.Literals([
  "RateLimited",
  "ServerError",
  "Timeout",
  "Connection",
  "InvalidResponse",
  "ClientError"
])
export type ProviderFailureReason = typeof ProviderFailureReason.Type

/** One failed attempt against an OpenAI-compatible endpoint. Its message never holds the API key. */
export class ProviderCallError extends Schema.TaggedError<ProviderCallError>()("ProviderCallError", {
  reason: ProviderFailureReason,
  /** HTTP status when the server answered. */
  status: Schema.optional(Schema.Number),
  /** The server's Retry-After / retry-after-ms, in milliseconds, when it sent one. */
  retryAfterMs: Schema.optional(Schema.Number),
  message: Schema.String
}) {}

export const isRetryable = (error: ProviderCallError): boolean => error.reason !== "ClientError"

/** The environment variable that should hold an API key is unset or empty. */
export class ApiKeyMissing extends Schema.TaggedError<ApiKeyMissing>()("ApiKeyMissing", {
  envName: Schema.String,
  message: Schema.String
}) {}
