import {
  ABLATIONS,
  InputError,
  LevelWeights,
  maspoDefaults,
  OptimizerConfig,
  type OptimizerOverrides,
  paperDefaults,
  PositiveInt,
  type RunConfig
} from "@maspo/core"
import { Effect, Option, Schema } from "effect"
import { checkFlags } from "../configProblems.ts"
import { Command, Flag } from "effect/cli"
import {
  concurrencyFlag,
  configFlag,
  dataFlags,
  masFlag,
  outFlag,
  providerFlags,
  seedFlag,
  taskFlag
} from "../flags.ts"
import { METHOD_NAMES, type MethodName, runOptimization } from "../optimization.ts"
import { resolveRunConfig } from "../runConfig.ts"

const optional = <A>(flag: Flag.Flag<A>, description: string) =>
  flag.pipe(Flag.withDescription(description), Flag.optional)

const flags = {
  config: configFlag,
  task: taskFlag,
  mas: masFlag,
  seed: seedFlag,
  concurrency: concurrencyFlag,
  ...providerFlags,
  ...dataFlags,
  out: outFlag,
  preset: Flag.Literals("preset", ["maspo", "paper"]).pipe(
    Flag.withDescription(
      "maspo: the released search with every maspo switch on (default); paper: the released algorithm (README: paper preset and maspo switches)"
    ),
    Flag.withDefault("maspo")
  ),
  ablation: optional(
    Flag.Literals("ablation", Object.keys(ABLATIONS)),
    "A Table 2 ablation applied on top of the preset"
  ),
  beam: optional(Flag.Int("beam"), "Beam width K (paper: 2)"),
  children: optional(Flag.Int("children"), "Children per parent K_sub (paper: 2)"),
  steps: optional(Flag.Int("steps"), "Steps per agent visit T (paper: 3)"),
  rounds: optional(Flag.Int("rounds"), "Rounds D over all agents (paper: 3)"),
  batch: optional(Flag.Int("batch"), "Batch size |B| (paper: 10)"),
  pool: optional(Flag.Int("pool"), "Optimization pool size (paper: 50)"),
  evaluator: optional(
    Flag.Literals("evaluator", ["joint", "local", "global", "ground-truth"]),
    "Candidate evaluator (default joint)"
  ),
  weights: optional(Flag.String("weights"), "Weights a,b,c of local, lookahead, global (paper: 0.4,0.4,0.2)"),
  debiasPosition: optional(
    Flag.Boolean("debias-position"),
    "Ask each comparison in both orders (judgePosition both-orders; --no-debias-position: one order at a seeded coin's side)"
  ),
  refresh: optional(Flag.Boolean("refresh"), "Beam refresh on revisits (--no-refresh to disable)"),
  sampling: optional(
    Flag.Literals("sampling", ["misalignment", "random", "success"]),
    "Cases injected into successors' batches"
  ),
  kmis: optional(Flag.Int("kmis"), "Misalignment cases kept per agent K_mis (paper: 3)"),
  lookaheadDepth: optional(
    Flag.Int("lookahead-depth"),
    "Successor levels compared by the lookahead (paper: 1)"
  ),
  testN: optional(
    Flag.Int("test-n"),
    "Test items of the final evaluation: the first N >= 1 held-out items, all of them if fewer (default: all)"
  ),
  skipTest: Flag.Boolean("skip-test").pipe(
    Flag.withDescription("Skip the final evaluation of seed and optimized prompts on the test items"),
    Flag.withDefault(false)
  ),
  resume: Flag.Boolean("resume").pipe(
    Flag.withDescription("Continue from the checkpoint in --out"),
    Flag.withDefault(false)
  ),
  method: Flag.Literals("method", METHOD_NAMES).pipe(
    Flag.withDescription(
      "maspo (default; its ablations via --ablation), or a comparison optimizer: spo (per-agent, local judge), ape (per-agent APE/OPRO), tpe (joint instruction choice), gepa (reflective, Pareto)"
    ),
    Flag.withDefault("maspo" as MethodName)
  ),
  maxCalls: optional(
    Flag.Int("max-calls"),
    "Stop the optimization at this many LLM calls (all roles), for equal-cost comparisons"
  ),
  maxTokens: optional(
    Flag.Int("max-tokens"),
    "Stop the optimization at this many tokens (prompt + completion, all roles)"
  ),
  supervised: Flag.Boolean("supervised").pipe(
    Flag.withDescription(
      "tpe, gepa: score candidates with the task metric on the labeled pool instead of label-free preferences"
    ),
    Flag.withDefault(false)
  ),
  selfOptimized: Flag.Boolean("self-optimized").pipe(
    Flag.withDescription(
      "Table 2's self-optimized ablation: the optimizer and evaluator roles use the agent's provider and model"
    ),
    Flag.withDefault(false)
  )
}

/** The agent's provider for every role (each role keeps its own temperature and token defaults). */
export const selfOptimized = (run: RunConfig): RunConfig => {
  const agent = run.providers.agent
  if (agent === undefined) return { ...run, providers: {} }
  const { temperature: _t, maxTokens: _m, ...shared } = agent
  return { ...run, providers: { agent, optimizer: shared, evaluator: shared } }
}

type Input = { readonly [K in keyof typeof flags]: (typeof flags)[K] extends Flag.Flag<infer A> ? A : never }

/** `a,b,c`: three non-negative numbers, not all zero (the same check as a config's `weights`). */
export const parseWeights = (text: string) => {
  const parts = text.split(",").map((s) => (s.trim() === "" ? Number.NaN : Number(s.trim())))
  const weights = { local: parts[0]!, lookahead: parts[1]!, global: parts[2]! }
  return parts.length === 3 && Schema.is(LevelWeights)(weights)
    ? Effect.succeed(weights)
    : Effect.fail(
        new InputError({
          source: "--weights",
          message: `expected three non-negative numbers a,b,c, not all zero, got '${text}'`
        })
      )
}

/** preset < ablation < individual flags. */
export const resolveOptimizerConfig = Effect.fn("resolveOptimizerConfig")(function* (
  input: Input,
  /** The run config's `optimizer` (its file or `--set optimizer.<field>`): over the preset and ablation. */
  overrides: OptimizerOverrides = {}
) {
  const fields = OptimizerConfig.fields
  yield* checkFlags([
    ["--beam", fields.beamWidth, input.beam],
    ["--children", fields.childrenPerParent, input.children],
    ["--steps", fields.stepsPerVisit, input.steps],
    ["--rounds", fields.rounds, input.rounds],
    ["--batch", fields.batchSize, input.batch],
    ["--pool", fields.poolSize, input.pool],
    ["--kmis", fields.misalignmentCases, input.kmis],
    ["--lookahead-depth", fields.lookaheadDepth, input.lookaheadDepth],
    ["--max-calls", PositiveInt, input.maxCalls],
    ["--max-tokens", PositiveInt, input.maxTokens],
    ["--test-n", PositiveInt, input.testN]
  ])
  let c: OptimizerConfig = input.preset === "paper" ? paperDefaults : maspoDefaults
  if (Option.isSome(input.ablation)) c = ABLATIONS[input.ablation.value]!(c)
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) c = { ...c, [k]: v }
  const set = <K extends keyof OptimizerConfig>(key: K, o: Option.Option<OptimizerConfig[K]>) => {
    if (Option.isSome(o)) c = { ...c, [key]: o.value }
  }
  set("beamWidth", input.beam)
  set("childrenPerParent", input.children)
  set("stepsPerVisit", input.steps)
  set("rounds", input.rounds)
  set("batchSize", input.batch)
  set("poolSize", input.pool)
  set("evaluator", input.evaluator)
  // The old boolean flag: both orders, or one order at a seeded coin's side.
  if (Option.isSome(input.debiasPosition))
    c = { ...c, judgePosition: input.debiasPosition.value ? "both-orders" : "seeded-coin" }
  set("beamRefresh", input.refresh)
  set("caseSampling", input.sampling)
  set("misalignmentCases", input.kmis)
  set("lookaheadDepth", input.lookaheadDepth)
  if (Option.isSome(input.weights)) c = { ...c, weights: yield* parseWeights(input.weights.value) }
  if (c.batchSize > c.poolSize) {
    return yield* new InputError({
      source: "--batch",
      message: `batch size ${c.batchSize} exceeds the pool size ${c.poolSize}`
    })
  }
  return c
})

export const optimizeCommand = Command.make(
  "optimize",
  flags,
  Effect.fn("maspo.optimize")(function* (input) {
    if (input.skipTest && Option.isSome(input.testN))
      return yield* new InputError({ source: "--skip-test", message: "cannot be combined with --test-n" })
    const resolved = yield* resolveRunConfig({ ...input, n: Option.none() }, true)
    const run = input.selfOptimized ? selfOptimized(resolved) : resolved
    yield* runOptimization({
      run,
      optimizer: yield* resolveOptimizerConfig(input, run.optimizer),
      method: input.method,
      cap: {
        ...(Option.isSome(input.maxCalls) ? { maxCalls: input.maxCalls.value } : {}),
        ...(Option.isSome(input.maxTokens) ? { maxTokens: input.maxTokens.value } : {})
      },
      supervised: input.supervised,
      out: Option.getOrElse(
        input.out,
        () => `.maspo/runs/optimize-${run.task}-${run.topology}-seed${run.seed}`
      ),
      resume: input.resume,
      test: input.skipTest ? "skip" : Option.getOrUndefined(input.testN),
      verbose: true
    })
  })
).pipe(
  Command.withDescription(
    "Optimize a multi-agent system's prompts with MASPO (or a comparison optimizer), then evaluate seed vs optimized on held-out items"
  ),
  Command.withExamples([
    {
      command: "maspo optimize --task arith --mas sequential --seed 1",
      description: "MASPO on the simulator"
    },
    {
      command: "maspo optimize --ablation local-only --seed 1",
      description: "The per-agent (local judge) ablation"
    },
    {
      command: "maspo optimize --out runs/a --resume",
      description: "Continue a killed run from its checkpoint"
    }
  ])
)
