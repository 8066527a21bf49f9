import { Cause, Deferred, Effect, Exit, Schema } from "effect"
import {
  type LanguageModelClient,
  LanguageModelError,
  type LMRequest,
  type LMResponse
} from "../LanguageModel.ts"
import type { CacheError, CallStore, StoredAnswer } from "./CallStore.ts"
import { cacheKey, type CacheKeyInput, cacheKeyInput, type ExtraBody } from "./key.ts"

/**
 * - `read-write` (default): a hit is served from disk (`cached: true`); a miss calls the provider,
 *   stores the answer and returns it (`cached: false`).
 * - `replay`: a hit as above; a miss fails with a `LanguageModelError` naming the key, and the
 *   provider is never called.
 * - `record-fresh`: always calls the provider and overwrites the stored answer.
 * - `off`: pass-through; nothing is read or written.
 */
export const CacheMode = Schema.Literals(["read-write", "replay", "record-fresh", "off"])
export type CacheMode = typeof CacheMode.Type

export const CACHE_MODES: ReadonlyArray<CacheMode> = CacheMode.literals

export interface WithCacheOptions {
  /** Role named in the errors the cache itself raises (a replay miss, a failed write). */
  readonly role?: string
}

type Flight = Deferred.Deferred<Exit.Exit<LMResponse, LanguageModelError>>

/**
 * In-flight calls per store, shared by every wrapper over the same store: identical requests
 * (same key) in flight at the same time reach the provider once.
 */
const flightsByStore = new WeakMap<CallStore, Map<string, Flight>>()
const flightsOf = (store: CallStore): Map<string, Flight> => {
  let flights = flightsByStore.get(store)
  if (flights === undefined) {
    flights = new Map()
    flightsByStore.set(store, flights)
  }
  return flights
}

const preview = (text: string, n: number): string => {
  const oneLine = text.replace(/\s+/g, " ").trim()
  return oneLine.length > n ? `${oneLine.slice(0, n)}…` : oneLine
}

/** The message of a replay miss: the key and a summary of the request. */
export const replayMissMessage = (key: string, request: LMRequest): string => {
  const last = request.messages[request.messages.length - 1]
  const lastText = last === undefined ? "(no messages)" : `${last.role}: ${preview(last.content, 200)}`
  return (
    `replay mode: no cached answer for key ${key} ` +
    `(model ${request.model}, sampleIndex ${request.sampleIndex}, last message ${JSON.stringify(lastText)})`
  )
}

const fromStored = (stored: StoredAnswer): LMResponse => ({
  text: stored.text,
  usage: stored.usage,
  cached: true
})

/**
 * Wraps a client with the call cache. The key covers the provider kind, model, messages,
 * temperature, max tokens, seed, sample index and `extraBody` (see `cacheKey`).
 *
 * Single flight (all modes but `off`): while a call for a key is in flight, identical requests wait
 * for it instead of calling the provider again, and get its answer (or its failure). Followers get
 * `cached: true`, since they were not live calls; only the leader's answer is `cached: false`. If
 * the leader is interrupted, a follower retries on its own. Flights are shared by all wrappers over
 * the same store (same key = same answer, whichever client asked).
 *
 * If another writer (another process) stored an answer for the key while this call was live, the
 * stored answer's text is returned (the first recorded answer wins, so a run sees what its replay
 * will see), with this call's usage and `cached: false`.
 *
 * Store failures surface as `LanguageModelError`s (role `options.role`, default "cache") naming the
 * cache file and carrying the key.
 */
export const withCache = (
  client: LanguageModelClient,
  store: CallStore,
  mode: CacheMode = "read-write",
  extraBody: ExtraBody = {},
  options: WithCacheOptions = {}
): LanguageModelClient => {
  if (mode === "off") return client
  const role = options.role ?? "cache"
  const flights = flightsOf(store)
  const storeError = (key: string) => (e: CacheError) =>
    new LanguageModelError({ role, message: `call cache ${e.path}: ${e.message}`, cacheKey: key })

  /** One attempt: served, failed, or `undefined` when the leader it followed was interrupted. */
  const attempt = (request: LMRequest, input: CacheKeyInput, key: string) =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        const follow = Effect.fnUntraced(function* (flight: Flight) {
          const exit = yield* restore(Deferred.await(flight))
          if (Exit.isSuccess(exit)) return { ...exit.value, cached: true }
          if (Cause.hasInterruptsOnly(exit.cause)) return undefined
          return yield* Effect.failCause(exit.cause)
        })
        const before = flights.get(key)
        if (before !== undefined) return yield* follow(before)
        if (mode !== "record-fresh") {
          const stored = yield* store.lookup(key).pipe(Effect.mapError(storeError(key)))
          if (stored !== undefined) return fromStored(stored)
          if (mode === "replay") {
            return yield* new LanguageModelError({
              role,
              message: replayMissMessage(key, request),
              cacheKey: key
            })
          }
        }
        // Check again: the fiber may have yielded during the lookup. From here to `flights.set` is
        // plain synchronous code, and the region is uninterruptible, so the flight registered here
        // is always completed below.
        const after = flights.get(key)
        if (after !== undefined) return yield* follow(after)
        const flight = Deferred.makeUnsafe<Exit.Exit<LMResponse, LanguageModelError>>()
        flights.set(key, flight)
        return yield* restore(
          Effect.gen(function* () {
            const response = yield* client.generate(request)
            // `cached` stays true only if the inner client itself served from a cache.
            const live: LMResponse = {
              text: response.text,
              usage: response.usage,
              cached: response.cached === true
            }
            if (mode === "record-fresh") {
              yield* store.overwrite(key, input, live).pipe(Effect.mapError(storeError(key)))
              return live
            }
            const inserted = yield* store.put(key, input, live).pipe(Effect.mapError(storeError(key)))
            if (inserted) return live
            // Another writer (another process, or a fiber that raced this one) recorded an answer
            // first. The first recorded answer wins, so return that text: what this run saw is what
            // a replay will see. The usage stays the live call's (those tokens were spent).
            const first = yield* store.get(key).pipe(Effect.mapError(storeError(key)))
            return first === undefined ? live : { ...live, text: first.text }
          })
        ).pipe(
          Effect.onExit((exit) =>
            Effect.suspend(() => {
              flights.delete(key)
              return Deferred.succeed(flight, exit)
            })
          )
        )
      })
    )

  // Untraced: the call's span is the caller's (`LanguageModel.generate`); a second span and stack
  // capture a call cost more than a cache hit itself.
  // The budget's bound and the call itself need the same key; hash it once per request object.
  const keys = new WeakMap<LMRequest, { readonly input: CacheKeyInput; readonly key: string }>()
  const keyOf = (request: LMRequest) => {
    let known = keys.get(request)
    if (known === undefined) {
      const input = cacheKeyInput(client.provider, request, extraBody)
      known = { input, key: cacheKey(input) }
      keys.set(request, known)
    }
    return known
  }

  const generate = Effect.fnUntraced(function* (request: LMRequest) {
    const { input, key } = keyOf(request)
    while (true) {
      const response = yield* attempt(request, input, key)
      if (response !== undefined) return response
    }
  })

  // A client whose bound is its exact usage is bounded on a hit by the stored usage: the same figure
  // (its answers are a function of the request), found without running it, so a replay makes the
  // same budget decisions as the live run. Any other client keeps its own bound on hits too: a bound
  // that depended on the cache's content would stop a live run and its replay at different points.
  const innerBound = client.usageBound
  const usageBound =
    innerBound !== undefined && client.exactUsage === true && mode !== "record-fresh"
      ? Effect.fnUntraced(function* (request: LMRequest) {
          const { key } = keyOf(request)
          const stored = yield* store.lookup(key).pipe(Effect.mapError(storeError(key)))
          return stored !== undefined ? stored.usage : yield* innerBound(request)
        })
      : innerBound

  return {
    provider: client.provider,
    model: client.model,
    generate,
    ...(usageBound !== undefined ? { usageBound } : {}),
    ...(client.exactUsage === true ? { exactUsage: true } : {})
  }
}
