import { Config, Deferred, Effect, Redacted } from "effect"
import OpenAI from "openai"
import { nodeFetch } from "./nodeFetch.ts"
import {
  approxTokens,
  type LanguageModelClient,
  LanguageModelError,
  type LMRequest,
  type LMResponse,
  messagesTokens
} from "../LanguageModel.ts"
import { deriveSeed, unitFromParts } from "../random.ts"
import { ApiKeyMissing, isRetryable, ProviderCallError, type ProviderFailureReason } from "./errors.ts"
import { makeWindowLimiter, type WindowLimiter } from "./limiter.ts"
import { makePermits } from "./permits.ts"
import { parseCompletion } from "./response.ts"
import { clip, reasonForStatus, retryAfterMs, retryDelayMs, scrubSecret } from "./retry.ts"

export interface OpenAiClientOptions {
  /** The role this client serves; named in every error. */
  readonly role: string
  /** Base URL including the version path, e.g. `https://api.openai.com/v1`. */
  readonly baseUrl: string
  readonly model: string
  /** Unwrapped only to construct the HTTP client; never logged nor put in an error. */
  readonly apiKey: Redacted.Redacted<string>
  /** The `provider` label of the client (default "openai"). */
  readonly provider?: string
  /** Per attempt, headers and body included (default 60000). */
  readonly timeoutMs?: number
  /** Retries after the first attempt, for transient failures only (default 5). */
  readonly maxRetries?: number
  /** First backoff step (default 500); doubles per retry. */
  readonly baseDelayMs?: number
  /** Cap of any wait, Retry-After included (default 20000). */
  readonly maxDelayMs?: number
  /** Seed of the backoff jitter (default 0). */
  readonly jitterSeed?: number
  /** Attempts in flight at once for this client (default 8). */
  readonly concurrency?: number
  /** Requests per minute (sliding window); unlimited when absent. */
  readonly rpm?: number
  /** Tokens per minute, counted as approximate prompt tokens + maxTokens; unlimited when absent. */
  readonly tpm?: number
  /** Merged into every request body last, e.g. `{ top_k: 20 }` or `{ chat_template_kwargs: {...} }`. */
  readonly extraBody?: Readonly<Record<string, unknown>>
  /** The cache key of a request, carried by its errors (e.g. the call cache's `cacheKey`). */
  readonly keyOf?: (request: LMRequest) => string
}

/** Counters of one client, for tests and run reports. */
export interface OpenAiClientStats {
  /** HTTP attempts started. */
  readonly attempts: number
  /** Requests that were sent (after single-flight). */
  readonly requests: number
  /** Requests answered by joining an identical request already in flight. */
  readonly joined: number
  /** Failed attempts, by reason. */
  readonly failures: Readonly<Record<ProviderFailureReason, number>>
}

export interface OpenAiClient extends LanguageModelClient {
  readonly stats: () => OpenAiClientStats
}

export const defaultOpenAiOptions = {
  timeoutMs: 60_000,
  maxRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  jitterSeed: 0,
  concurrency: 8
} as const

const requestSeeds = new Map<string, number>()

/**
 * The seed sent to the server: the request's seed mixed with its sample index, a non-negative
 * 31-bit integer, so repeated samples differ yet are reproducible.
 */
export const requestSeed = (seed: number, sampleIndex: number): number => {
  const id = `${seed}:${sampleIndex}`
  let derived = requestSeeds.get(id)
  if (derived === undefined) {
    // A run sends thousands of requests with a handful of (seed, sample index) pairs: hash each once.
    if (requestSeeds.size >= 4096) requestSeeds.clear()
    derived = deriveSeed(seed, `sample:${sampleIndex}`) & 0x7fffffff
    requestSeeds.set(id, derived)
  }
  return derived
}

/**
 * Identifies a request among those in flight (single flight): every field of `LMRequest` at a fixed
 * position, so two requests share a key exactly when they are equal.
 */
const flightKey = (request: LMRequest): string => {
  const parts: Array<string | number> = [
    request.model,
    request.temperature,
    request.maxTokens,
    request.seed,
    request.sampleIndex
  ]
  for (const m of request.messages) parts.push(m.role, m.content)
  return JSON.stringify(parts)
}

/** The chat.completions body for a request: model, messages, temperature, max_tokens, seed, extras. */
export const chatRequestBody = (
  request: LMRequest,
  extraBody?: Readonly<Record<string, unknown>>
): Record<string, unknown> => ({
  model: request.model,
  messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
  temperature: request.temperature,
  max_tokens: request.maxTokens,
  seed: requestSeed(request.seed, request.sampleIndex),
  ...extraBody
})

/** Estimated tokens a request spends against a tokens-per-minute limit. */
export const requestTokenEstimate = (request: LMRequest): number =>
  messagesTokens(request.messages) + Math.max(0, request.maxTokens)

/** Maps anything the openai client throws to a typed failure; the secret is scrubbed away. */
export const classifyFailure = (error: unknown, secret: string, nowMs: number): ProviderCallError => {
  const text = (e: unknown) => clip(scrubSecret(e instanceof Error ? e.message : String(e), secret), 300)
  if (error instanceof ProviderCallError) return error
  if (error instanceof OpenAI.APIConnectionTimeoutError)
    return new ProviderCallError({ reason: "Timeout", message: "request timed out" })
  if (error instanceof OpenAI.APIUserAbortError)
    return new ProviderCallError({ reason: "Timeout", message: "request aborted" })
  if (error instanceof OpenAI.APIConnectionError) {
    const cause = (error as { cause?: unknown }).cause
    const code =
      cause instanceof Error
        ? ((cause as { code?: unknown }).code ?? (cause.cause as { code?: unknown } | undefined)?.code)
        : undefined
    return new ProviderCallError({
      reason: "Connection",
      message: `connection failed${typeof code === "string" ? ` (${code})` : ""}: ${text(error)}`
    })
  }
  if (error instanceof OpenAI.APIError && typeof error.status === "number") {
    const after = retryAfterMs(error.headers, nowMs)
    return new ProviderCallError({
      reason: reasonForStatus(error.status),
      status: error.status,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
      message: `HTTP ${text(error)}`
    })
  }
  if (error instanceof SyntaxError)
    return new ProviderCallError({ reason: "InvalidResponse", message: `unparseable body: ${text(error)}` })
  return new ProviderCallError({ reason: "Connection", message: text(error) })
}

const emptyFailures = (): Record<ProviderFailureReason, number> => ({
  RateLimited: 0,
  ServerError: 0,
  Timeout: 0,
  Connection: 0,
  InvalidResponse: 0,
  ClientError: 0
})

/**
 * An OpenAI-compatible chat.completions client with per-attempt timeouts, bounded retries with
 * seeded-jitter backoff (honouring Retry-After), a per-client concurrency limit, optional rpm/tpm
 * limits and single-flight of identical in-flight requests.
 */
export const openAiClient = (options: OpenAiClientOptions): Effect.Effect<OpenAiClient> =>
  Effect.gen(function* () {
    const timeoutMs = options.timeoutMs ?? defaultOpenAiOptions.timeoutMs
    const maxRetries = Math.max(0, options.maxRetries ?? defaultOpenAiOptions.maxRetries)
    const policy = {
      baseDelayMs: options.baseDelayMs ?? defaultOpenAiOptions.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? defaultOpenAiOptions.maxDelayMs
    }
    const jitterSeed = options.jitterSeed ?? defaultOpenAiOptions.jitterSeed
    const slots = makePermits(options.concurrency ?? defaultOpenAiOptions.concurrency)
    const rpm: WindowLimiter | undefined =
      options.rpm !== undefined && options.rpm > 0 ? yield* makeWindowLimiter(options.rpm) : undefined
    const tpm: WindowLimiter | undefined =
      options.tpm !== undefined && options.tpm > 0 ? yield* makeWindowLimiter(options.tpm) : undefined
    const secret = Redacted.value(options.apiKey)
    const http = new OpenAI({
      baseURL: options.baseUrl,
      apiKey: secret,
      maxRetries: 0,
      timeout: timeoutMs,
      fetch: nodeFetch as typeof fetch
    })
    const inflight = new Map<string, Deferred.Deferred<LMResponse, LanguageModelError>>()
    const counters = { attempts: 0, requests: 0, joined: 0, failures: emptyFailures() }

    const attemptOnce = (request: LMRequest, body: Record<string, unknown>) =>
      Effect.gen(function* () {
        if (rpm) yield* rpm.take(1)
        if (tpm) yield* tpm.take(requestTokenEstimate(request))
        counters.attempts++
        // nodeFetch resolves only once the whole body has arrived, so the openai client's timeout
        // (an abort signal) covers a body that stalls after the headers too.
        const raw = yield* Effect.tryPromise({
          try: (signal) =>
            http.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, {
              signal,
              timeout: timeoutMs
            }) as Promise<unknown>,
          catch: (e) => classifyFailure(e, secret, Date.now())
        })
        const parsed = parseCompletion(raw)
        if (parsed._tag === "Invalid")
          return yield* Effect.fail(
            new ProviderCallError({ reason: "InvalidResponse", message: parsed.reason })
          )
        const response: LMResponse = {
          text: parsed.text,
          usage: parsed.usage ?? {
            promptTokens: messagesTokens(request.messages),
            completionTokens: approxTokens(parsed.text)
          }
        }
        return response
      })

    const send = (request: LMRequest, key: string): Effect.Effect<LMResponse, LanguageModelError> => {
      const body = chatRequestBody(request, options.extraBody)
      const loop = (attempt: number): Effect.Effect<LMResponse, LanguageModelError> =>
        slots.withPermit(attemptOnce(request, body)).pipe(
          Effect.catch((error: ProviderCallError) => {
            counters.failures[error.reason]++
            if (isRetryable(error) && attempt < maxRetries) {
              const delay = retryDelayMs(
                policy,
                attempt,
                unitFromParts("openai-jitter", jitterSeed, key, attempt),
                error.retryAfterMs
              )
              return Effect.logDebug(
                `${options.role}: attempt ${attempt + 1} failed (${error.reason}); retrying in ${delay} ms`
              ).pipe(
                Effect.andThen(Effect.sleep(delay)),
                Effect.andThen(Effect.suspend(() => loop(attempt + 1)))
              )
            }
            return Effect.fail(toLanguageModelError(error, attempt + 1, request))
          })
        )
      return loop(0)
    }

    const toLanguageModelError = (error: ProviderCallError, attempts: number, request: LMRequest) => {
      const cacheKey = options.keyOf?.(request)
      const status = error.status !== undefined ? ` (HTTP ${error.status})` : ""
      const message = scrubSecret(
        `${options.model} at ${options.baseUrl}: ${error.reason}${status} after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${error.message}${cacheKey !== undefined ? ` [cache key ${cacheKey}]` : ""}`,
        secret
      )
      return new LanguageModelError({
        role: options.role,
        message,
        ...(cacheKey !== undefined ? { cacheKey } : {})
      })
    }

    const generate = Effect.fn("OpenAiClient.generate")(function* (request: LMRequest) {
      const key = flightKey(request)
      const existing = inflight.get(key)
      if (existing) {
        counters.joined++
        return yield* Deferred.await(existing)
      }
      const slot = Deferred.makeUnsafe<LMResponse, LanguageModelError>()
      inflight.set(key, slot)
      counters.requests++
      return yield* send(request, key).pipe(
        Effect.onExit((exit) =>
          Effect.suspend(() => {
            inflight.delete(key)
            return Deferred.done(slot, exit)
          })
        )
      )
    })

    return {
      provider: options.provider ?? "openai",
      model: options.model,
      generate,
      stats: () => ({ ...counters, failures: { ...counters.failures } })
    } satisfies OpenAiClient
  })

/**
 * The API key from an environment variable, as a Redacted. Undefined `envName` (a local server
 * without auth) gives the placeholder "not-needed". A missing or empty variable fails with
 * `ApiKeyMissing` naming the variable, never a value.
 */
export const apiKeyConfig = (
  envName: string | undefined
): Effect.Effect<Redacted.Redacted<string>, ApiKeyMissing> =>
  envName === undefined
    ? Effect.succeed(Redacted.make("not-needed"))
    : Config.Redacted(envName).pipe(
        Effect.mapError(
          () => new ApiKeyMissing({ envName, message: `environment variable ${envName} is not set` })
        ),
        Effect.filterOrFail(
          (key) => Redacted.value(key).length > 0,
          () => new ApiKeyMissing({ envName, message: `environment variable ${envName} is empty` })
        )
      )
