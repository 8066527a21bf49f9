import { defaultRunConfig, type RunConfig, RunConfig as RunConfigSchema } from "@maspo/core"
import { Effect, Option, Schema } from "effect"
import { decodeStrict, type FieldPath, problemsError } from "./configProblems.ts"
import { readJsonLocated } from "./output.ts"
import { systemProblem, taskProblem } from "./registry.ts"

const fields = RunConfigSchema.fields
/** A config file may leave out any field; missing ones take the defaults. */
const PartialRunConfig = Schema.Struct({
  seed: Schema.optional(fields.seed),
  task: Schema.optional(fields.task),
  topology: Schema.optional(fields.topology),
  testSize: fields.testSize,
  concurrency: Schema.optional(fields.concurrency),
  dataDir: fields.dataDir,
  cache: fields.cache,
  split: fields.split,
  optimizer: fields.optimizer,
  templates: fields.templates,
  providers: Schema.optional(fields.providers)
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

/** Which flag set a field, by its dotted run config path (the others come from the file or the defaults). */
type Origins = Map<string, string>

const sameOrNested = (a: string, b: string) => a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`)

/** defaults < config file < command-line flags. */
export const resolveRunConfig = Effect.fn("resolveRunConfig")(function* (
  flags: RunConfigOverrides,
  /** The run optimizes the topology's prompts (so it must have some). */
  optimized = false
) {
  const located = Option.isSome(flags.config)
    ? yield* readJsonLocated(PartialRunConfig)(flags.config.value)
    : undefined
  const file: Partial<RunConfig> = located?.value ?? {}
  const merged: RunConfig = {
    ...defaultRunConfig,
    ...file,
    providers: { ...defaultRunConfig.providers, ...file.providers }
  }
  const origins: Origins = new Map()
  const draft = structuredClone(merged) as unknown as Record<string, unknown>
  const override = (path: string, flag: string, o: { value: unknown } | undefined) => {
    if (!o) return
    setPath(draft, path, o.value)
    origins.set(path, flag)
  }
  override("seed", "--seed", pick(flags.seed))
  override("task", "--task", pick(flags.task))
  override("topology", "--mas", pick(flags.mas))
  override("testSize", "--n", pick(flags.n))
  override("concurrency", "--concurrency", pick(flags.concurrency))
  const model = pick(flags.model)
  const baseUrl = pick(flags.baseUrl)
  const apiKeyEnv = pick(flags.apiKeyEnv)
  if (model || baseUrl || apiKeyEnv)
    for (const role of ["agent", "optimizer", "evaluator"]) {
      setPath(draft, `providers.${role}.kind`, "openai")
      override(`providers.${role}.model`, "--model", model)
      override(`providers.${role}.baseUrl`, "--base-url", baseUrl)
      override(`providers.${role}.apiKeyEnv`, "--api-key-env", apiKeyEnv)
    }
  override("cache.path", "--cache", pick(flags.cache))
  override("cache.mode", "--cache-mode", pick(flags.cacheMode))
  override("dataDir", "--data-dir", pick(flags.dataDir))
  override("split.mode", "--split", pick(flags.split))
  override("split.seed", "--split-seed", pick(flags.splitSeed))
  const sets = pick(flags.set)
  for (const [path, value] of Object.entries(sets?.value ?? {}))
    override(path, `--set ${path}=${value}`, { value: parseSetValue(value) })
  // A provider given without a kind is a real one when it names a model or an endpoint, else the simulator.
  const providers = (draft.providers ?? {}) as Record<string, Record<string, unknown> | undefined>
  for (const p of typeof providers === "object" && providers !== null ? Object.values(providers) : [])
    if (typeof p === "object" && p !== null && !Array.isArray(p) && p.kind === undefined)
      p.kind = p.model !== undefined || p.baseUrl !== undefined ? "openai" : "sim"

  /** The flag that set a field, else the file and line it is on, else the defaults. */
  const where = (path: FieldPath): string => {
    const dotted = path.map(String).join(".")
    let flag: string | undefined
    for (const [set, name] of origins) if (sameOrNested(dotted, set)) flag = name
    if (flag !== undefined) return flag
    return located !== undefined && Option.isSome(flags.config) ? located.where(path) : "run config"
  }
  const decoded = decodeStrict(RunConfigSchema, draft)
  if ("problems" in decoded) return yield* problemsError(decoded.problems, where)
  const config = decoded.value
  // Names are checked here, where it is known whether a flag or the file gave them.
  const task = taskProblem(config.task)
  if (task !== undefined) return yield* problemsError([{ path: ["task"], message: task }], where)
  const system = systemProblem(config.task, config.topology, optimized)
  if (system !== undefined) return yield* problemsError([{ path: ["topology"], message: system }], where)
  return config
})
