import {
  Budget,
  defaultRoleDefaults,
  InputError,
  LanguageModel,
  type LanguageModelClient,
  LanguageModelError,
  type ProviderConfig,
  type Role,
  type RoleClients,
  type RoleDefaultsByRole,
  ROLES,
  type RunConfig,
  type TemplateSet
} from "@maspo/core"
import { cacheKey, cacheKeyInput, CallCache, type ExtraBody } from "@maspo/core/cache"
import { apiKeyConfig, openAiClient } from "@maspo/core/openai"
import { simClients } from "@maspo/core/sim"
import { Effect, Layer } from "effect"

export const DEFAULT_CACHE_PATH = ".maspo/cache/calls.sqlite"
export const OPENAI_BASE_URL = "https://api.openai.com/v1"

const isSim = (p: ProviderConfig | undefined) => p === undefined || p.kind === "sim"

/**
 * The cache of a run: the configured mode, else read-write as soon as one role calls a real
 * provider (every live call is worth keeping), and off when only the deterministic simulator runs.
 */
export const cacheSettings = (config: RunConfig) => ({
  path: config.cache?.path ?? DEFAULT_CACHE_PATH,
  mode: config.cache?.mode ?? (ROLES.every((r) => isSim(config.providers[r])) ? "off" : "read-write")
})

/**
 * The provider of a replay: `replay` mode serves every call from the cache and never calls the
 * client behind it, so no HTTP client is built and no API key is asked for (a replay of a paid run
 * needs no account). Only the provider kind and model, which are part of the cache key, matter.
 */
const replayOnlyClient = (role: Role, model: string): LanguageModelClient => ({
  provider: "openai",
  model,
  generate: () =>
    Effect.fail(
      new LanguageModelError({
        role,
        message: "replay mode makes no network call (no provider client is built)"
      })
    )
})

const openAiFor = (role: Role, p: ProviderConfig, seed: number, replay: boolean) =>
  Effect.gen(function* () {
    const source = `providers.${role}`
    if (p.model === undefined)
      return yield* new InputError({
        source: `${source}.model`,
        message: "an openai provider needs a model name"
      })
    if (replay) return replayOnlyClient(role, p.model)
    const baseUrl = p.baseUrl ?? OPENAI_BASE_URL
    // The official endpoint always needs a key; a local server (vLLM, Ollama) usually does not.
    const envName = p.apiKeyEnv ?? (baseUrl === OPENAI_BASE_URL ? "OPENAI_API_KEY" : undefined)
    const apiKey = yield* apiKeyConfig(envName).pipe(
      Effect.mapError((e) => new InputError({ source: `${source}.apiKeyEnv`, message: e.message }))
    )
    const extraBody = (p.extraBody ?? {}) as ExtraBody
    return yield* openAiClient({
      role,
      baseUrl,
      model: p.model,
      apiKey,
      jitterSeed: seed,
      extraBody,
      keyOf: (request) => cacheKey(cacheKeyInput("openai", request, extraBody)),
      ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
      ...(p.maxRetries !== undefined ? { maxRetries: p.maxRetries } : {}),
      ...(p.concurrency !== undefined ? { concurrency: p.concurrency } : {}),
      ...(p.rpm !== undefined ? { rpm: p.rpm } : {}),
      ...(p.tpm !== undefined ? { tpm: p.tpm } : {})
    })
  })

const withoutUndefined = <A extends object>(o: A): Partial<A> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<A>

/** One client per role from the run config (the simulator for roles with no provider), behind the cache. */
export const clientsFor = Effect.fn("clientsFor")(function* (
  config: RunConfig,
  simulator?: RoleClients,
  /** The run's templates: a tuned simulator must read requests through them too. */
  templates?: TemplateSet
) {
  const cache = yield* CallCache
  const sets = templates ? [templates] : []
  const sim = simulator ?? simClients({}, sets)
  const build = (role: Role): Effect.Effect<LanguageModelClient, InputError> => {
    const p = config.providers[role]
    const base =
      p === undefined || p.kind === "sim"
        ? // Simulator parameters replace the task's simulator for this role with a tuned one.
          Effect.succeed(p?.sim !== undefined ? simClients(withoutUndefined(p.sim), sets)[role] : sim[role])
        : openAiFor(role, p, config.seed, cache.mode === "replay")
    return Effect.map(base, (client) => cache.wrap(client, (p?.extraBody ?? {}) as ExtraBody, { role }))
  }
  return {
    agent: yield* build("agent"),
    optimizer: yield* build("optimizer"),
    evaluator: yield* build("evaluator")
  }
})

/** Per-role defaults: the run seed everywhere, temperature and max tokens as the provider config says. */
export const roleDefaultsFor = (config: RunConfig): RoleDefaultsByRole => {
  const d = defaultRoleDefaults(config.seed)
  const pick = (role: Role) => {
    const p = config.providers[role]
    return {
      ...d[role],
      ...(p?.temperature !== undefined ? { temperature: p.temperature, fixedTemperature: true } : {}),
      ...(p?.maxTokens !== undefined ? { maxTokens: p.maxTokens, fixedMaxTokens: true } : {})
    }
  }
  return { agent: pick("agent"), optimizer: pick("optimizer"), evaluator: pick("evaluator") }
}

/** LanguageModel + Budget (+ the call cache) for a run. */
export const languageModelLayer = (config: RunConfig, simulator?: RoleClients, templates?: TemplateSet) => {
  const cache = cacheSettings(config)
  return Layer.effect(
    LanguageModel,
    Effect.flatMap(clientsFor(config, simulator, templates), (clients) =>
      LanguageModel.make(clients, roleDefaultsFor(config))
    )
  ).pipe(
    // The task is recorded in the store, so an export for publishing knows it holds, e.g., GPQA calls.
    Layer.provide(CallCache.layer(cache.path, cache.mode, { datasets: [config.task] })),
    Layer.provideMerge(Budget.layer)
  )
}
