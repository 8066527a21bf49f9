import { defaultRunConfig, InputError, type RunConfig, RunConfig as RunConfigSchema } from "@maspo/core"
import { Effect, Option, Schema } from "effect"
import { readJsonAs } from "./output.ts"

/** A config file may leave out any field; missing ones take the defaults. */
const PartialRunConfig = Schema.Struct({
  seed: Schema.optional(Schema.Int),
  task: Schema.optional(Schema.String),
  topology: Schema.optional(Schema.String),
  testSize: Schema.optional(Schema.Int),
  concurrency: Schema.optional(Schema.Int),
  dataDir: Schema.optional(Schema.String),
  cache: RunConfigSchema.fields.cache,
  split: RunConfigSchema.fields.split,
  providers: Schema.optional(RunConfigSchema.fields.providers)
})

export interface RunConfigOverrides {
  readonly config: Option.Option<string>
  readonly seed: Option.Option<number>
  readonly task: Option.Option<string>
  readonly mas: Option.Option<string>
  readonly n?: Option.Option<number>
  readonly concurrency: Option.Option<number>
  readonly baseUrl?: Option.Option<string>
  readonly model?: Option.Option<string>
  readonly apiKeyEnv?: Option.Option<string>
  readonly set?: Option.Option<Record<string, string>>
  readonly cache?: Option.Option<string>
  readonly cacheMode?: Option.Option<"read-write" | "replay" | "record-fresh" | "off">
  readonly dataDir?: Option.Option<string>
  readonly split?: Option.Option<"heldout" | "paper">
  readonly splitSeed?: Option.Option<number>
}

/** A `--set` value: JSON when it parses (numbers, booleans, objects), else the text itself. */
const parseSetValue = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** Writes `value` at a dotted path of a plain object, creating objects on the way. */
export const setPath = (target: Record<string, unknown>, path: string, value: unknown): void => {
  const keys = path.split(".")
  let node = target
  for (const key of keys.slice(0, -1)) {
    const next = node[key]
    node[key] = typeof next === "object" && next !== null && !Array.isArray(next) ? { ...next } : {}
    node = node[key] as Record<string, unknown>
  }
  node[keys[keys.length - 1]!] = value
}

const pick = <A>(o: Option.Option<A> | undefined): { value: A } | undefined =>
  o !== undefined && Option.isSome(o) ? { value: o.value } : undefined

/** defaults < config file < command-line flags. */
export const resolveRunConfig = Effect.fn("resolveRunConfig")(function* (flags: RunConfigOverrides) {
  const file = Option.isSome(flags.config) ? yield* readJsonAs(PartialRunConfig)(flags.config.value) : {}
  const merged: RunConfig = {
    ...defaultRunConfig,
    ...file,
    providers: { ...defaultRunConfig.providers, ...file.providers }
  }
  const over = <K extends keyof RunConfig>(key: K, o: { value: RunConfig[K] } | undefined) => {
    if (o) (merged as { -readonly [P in keyof RunConfig]: RunConfig[P] })[key] = o.value
  }
  over("seed", pick(flags.seed))
  over("task", pick(flags.task))
  over("topology", pick(flags.mas))
  over("testSize", pick(flags.n))
  over("concurrency", pick(flags.concurrency))

  const draft = structuredClone(merged) as unknown as Record<string, unknown>
  const model = pick(flags.model)
  const baseUrl = pick(flags.baseUrl)
  const apiKeyEnv = pick(flags.apiKeyEnv)
  if (model || baseUrl || apiKeyEnv)
    for (const role of ["agent", "optimizer", "evaluator"]) {
      setPath(draft, `providers.${role}.kind`, "openai")
      if (model) setPath(draft, `providers.${role}.model`, model.value)
      if (baseUrl) setPath(draft, `providers.${role}.baseUrl`, baseUrl.value)
      if (apiKeyEnv) setPath(draft, `providers.${role}.apiKeyEnv`, apiKeyEnv.value)
    }
  const cache = pick(flags.cache)
  if (cache) setPath(draft, "cache.path", cache.value)
  const cacheMode = pick(flags.cacheMode)
  if (cacheMode) setPath(draft, "cache.mode", cacheMode.value)
  const dataDir = pick(flags.dataDir)
  if (dataDir) setPath(draft, "dataDir", dataDir.value)
  const split = pick(flags.split)
  if (split) setPath(draft, "split.mode", split.value)
  const splitSeed = pick(flags.splitSeed)
  if (splitSeed) setPath(draft, "split.seed", splitSeed.value)
  const sets = pick(flags.set)
  for (const [path, value] of Object.entries(sets?.value ?? {})) setPath(draft, path, parseSetValue(value))
  // A provider given without a kind is a real one when it names a model or an endpoint, else the simulator.
  const providers = (draft.providers ?? {}) as Record<string, Record<string, unknown> | undefined>
  for (const p of Object.values(providers))
    if (p && p.kind === undefined)
      p.kind = p.model !== undefined || p.baseUrl !== undefined ? "openai" : "sim"
  return yield* Schema.decodeUnknownEffect(RunConfigSchema)(draft, { onExcessProperty: "error" }).pipe(
    Effect.mapError(
      (e) =>
        new InputError({
          source: "run config (after --config and command-line overrides)",
          message: e.message
        })
    )
  )
})
