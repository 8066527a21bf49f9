import { Schema } from "effect"
import { TemplateSetName } from "./templates/Template.ts"
import { Fraction, NonNegativeInt, NonNegativeNumber, PositiveInt, PositiveNumber, Seed } from "./Bounds.ts"
import { OptimizerOverrides } from "./optimizer/OptimizerConfig.ts"

/** The simulator's brevity bias: P(preferring a bare answer on a tie) - 0.5, so in [-0.5, 0.5]. */
const BrevityBias = Schema.Number.check(
  Schema.makeFilter((n: number) => n >= -0.5 && n <= 0.5, { expected: "a number in [-0.5, 0.5]" })
)

/** Which backend serves a role. `sim` is the embedded simulator (the default). */
export const ProviderConfig = Schema.Struct({
  kind: Schema.Literals(["sim", "openai"]),
  model: Schema.optional(Schema.String),
  baseUrl: Schema.optional(Schema.String),
  /** Name of the environment variable holding the API key (the key itself is never stored). */
  apiKeyEnv: Schema.optional(Schema.String),
  temperature: Schema.optional(NonNegativeNumber),
  maxTokens: Schema.optional(PositiveInt),
  /** Fields merged into every request body, e.g. `{"top_k": 20}` or a "thinking off" switch. */
  extraBody: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  timeoutMs: Schema.optional(PositiveInt),
  maxRetries: Schema.optional(NonNegativeInt),
  /** Requests in flight at once for this provider. */
  concurrency: Schema.optional(PositiveInt),
  /** Optional requests-per-minute and tokens-per-minute limits. */
  rpm: Schema.optional(PositiveNumber),
  tpm: Schema.optional(PositiveNumber),
  /** Simulator parameters (kind "sim" only), e.g. the judge's accuracy and position bias. */
  sim: Schema.optional(
    Schema.Struct({
      judgeAccuracy: Schema.optional(Fraction),
      positionBias: Schema.optional(Fraction),
      brevityBias: Schema.optional(BrevityBias),
      optimizerNoise: Schema.optional(Fraction),
      /** A weight, not a probability: any non-negative number. */
      lureWeight: Schema.optional(NonNegativeNumber)
    })
  )
})
export type ProviderConfig = typeof ProviderConfig.Type

/** One evaluation or optimization run, as read from a config file and overridden on the CLI. */
export const RunConfig = Schema.Struct({
  seed: Seed,
  task: Schema.String,
  topology: Schema.String,
  /** Number of test items to evaluate (the first n held-out items; all when absent). */
  testSize: Schema.optional(PositiveInt),
  concurrency: PositiveInt,
  dataDir: Schema.optional(Schema.String),
  /**
   * How a dataset is split into the optimization pool and the test items. `heldout` (default): a
   * seeded pool disjoint from the test items. `paper`: the pool is drawn from the test file and the
   * test set is the whole file, as the paper's released code does (for comparison only).
   */
  split: Schema.optional(
    Schema.Struct({
      seed: Schema.optional(Seed),
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
  /** Optimizer config fields over the preset and ablation (flags win): `--set optimizer.dedupeBeam=false`. */
  optimizer: Schema.optional(OptimizerOverrides),
  /**
   * The request templates: a shipped set by name (default: the optimizer preset's, `paper` or
   * `maspo`), and any request kind replaced by a template file (a path, relative to the working
   * directory). See packages/core/templates/README.md.
   */
  templates: Schema.optional(
    Schema.Struct({
      set: Schema.optional(TemplateSetName),
      compress: Schema.optional(Schema.String),
      propose: Schema.optional(Schema.String),
      "judge-generic": Schema.optional(Schema.String),
      "judge-intermediate": Schema.optional(Schema.String),
      "judge-final": Schema.optional(Schema.String),
      "judge-answer": Schema.optional(Schema.String)
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
  concurrency: 8,
  providers: {}
}
