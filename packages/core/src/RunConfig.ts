import { Schema } from "effect"

/** Which backend serves a role. `sim` is the embedded simulator (the default). */
export const ProviderConfig = Schema.Struct({
  kind: Schema.Literals(["sim", "openai"]),
  model: Schema.optional(Schema.String),
  baseUrl: Schema.optional(Schema.String),
  /** Name of the environment variable holding the API key (the key itself is never stored). */
  apiKeyEnv: Schema.optional(Schema.String),
  temperature: Schema.optional(Schema.Number),
  maxTokens: Schema.optional(Schema.Number),
  /** Fields merged into every request body, e.g. `{"top_k": 20}` or a "thinking off" switch. */
  extraBody: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  timeoutMs: Schema.optional(Schema.Number),
  maxRetries: Schema.optional(Schema.Int),
  /** Requests in flight at once for this provider. */
  concurrency: Schema.optional(Schema.Int),
  /** Optional requests-per-minute and tokens-per-minute limits. */
  rpm: Schema.optional(Schema.Number),
  tpm: Schema.optional(Schema.Number),
  /** Simulator parameters (kind "sim" only), e.g. the judge's accuracy and position bias. */
  sim: Schema.optional(
    Schema.Struct({
      judgeAccuracy: Schema.optional(Schema.Number),
      positionBias: Schema.optional(Schema.Number),
      brevityBias: Schema.optional(Schema.Number),
      optimizerNoise: Schema.optional(Schema.Number),
      lureWeight: Schema.optional(Schema.Number)
    })
  )
})
export type ProviderConfig = typeof ProviderConfig.Type

/** One evaluation or optimization run, as read from a config file and overridden on the CLI. */
export const RunConfig = Schema.Struct({
  seed: Schema.Int,
  task: Schema.String,
  topology: Schema.String,
  /** Number of test items to evaluate (all when absent). */
  testSize: Schema.optional(Schema.Int),
  concurrency: Schema.Int,
  dataDir: Schema.optional(Schema.String),
  /**
   * How a dataset is split into the optimization pool and the test items. `heldout` (default): a
   * seeded pool disjoint from the test items. `paper`: the pool is drawn from the test file and the
   * test set is the whole file, as the paper's released code does (for comparison only).
   */
  split: Schema.optional(
    Schema.Struct({
      seed: Schema.optional(Schema.Int),
      mode: Schema.optional(Schema.Literals(["heldout", "paper"]))
    })
  ),
  /** The call cache: a SQLite file and a mode (see packages/core/src/cache/README.md). */
  cache: Schema.optional(
    Schema.Struct({
      path: Schema.optional(Schema.String),
      mode: Schema.optional(Schema.Literals(["read-write", "replay", "record-fresh", "off"]))
    })
  ),
  providers: Schema.Struct({
    agent: Schema.optional(ProviderConfig),
    optimizer: Schema.optional(ProviderConfig),
    evaluator: Schema.optional(ProviderConfig)
  })
})
export type RunConfig = typeof RunConfig.Type

export const defaultRunConfig: RunConfig = {
  seed: 0,
  task: "arith",
  topology: "sequential",
  testSize: 100,
  concurrency: 8,
  providers: {}
}
