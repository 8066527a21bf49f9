import { defaultRunConfig, type RunConfig, RunConfig as RunConfigSchema } from "@maspo/core"
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
  providers: Schema.optional(RunConfigSchema.fields.providers)
})

export interface RunConfigOverrides {
  readonly config: Option.Option<string>
  readonly seed: Option.Option<number>
  readonly task: Option.Option<string>
  readonly mas: Option.Option<string>
  readonly n?: Option.Option<number>
  readonly concurrency: Option.Option<number>
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
  return merged
})
