import {
  ABLATIONS,
  CaseSampling,
  EvaluatorKind,
  InputError,
  LevelWeights,
  maspoDefaults,
  OptimizerConfig,
  paperDefaults,
  PositiveInt,
  type RunConfig,
  stableHash
} from "@maspo/core"
import type { BudgetCap } from "@maspo/baselines"
import { Effect, Option, Schema } from "effect"
import { checkFlags } from "../configProblems.ts"
import { Command, Flag } from "effect/cli"
import {
  concurrencyFlag,
  configFlag,
  dataFlags,
  masFlag,
  providerFlags,
  seedFlag,
  taskFlag
} from "../flags.ts"
import { ensureCacheDirectory, ensureWritableDirectory } from "../files.ts"
import { cacheSettings } from "../providers.ts"
import { defaulted, noDefault } from "../help.ts"
import { METHOD_NAMES, type MethodName, runOptimization } from "../optimization.ts"
import { resolveRunConfig } from "../runConfig.ts"

const optional = <A>(flag: Flag.Flag<A>, description: string) =>
  flag.pipe(Flag.withDescription(description), Flag.optional)

/** What each method is, for --method's help (a Record, so a new method cannot go undescribed). */
const METHOD_HELP: Readonly<Record<MethodName, string>> = {
  maspo: "joint optimization; its ablations via --ablation",
  spo: "per-agent, local judge",
  ape: "per-agent APE/OPRO",
  tpe: "joint instruction choice",
  gepa: "reflective, Pareto"
}

const PRESETS = ["maspo", "paper"] as const
const PRESET_HELP: Readonly<Record<(typeof PRESETS)[number], string>> = {
  maspo: "the paper's search with position debiasing",
  paper: "exactly the paper's"
}

const PRESET_CONFIGS: Readonly<Record<(typeof PRESETS)[number], OptimizerConfig>> = {
  maspo: maspoDefaults,
  paper: paperDefaults
}

const showSetting = (v: unknown): string =>
  typeof v === "boolean"
    ? v
      ? "on"
      : "off"
    : typeof v === "object" && v !== null
      ? Object.values(v).join(",")
      : String(v)

/** An optimizer setting left to the preset and ablation: its help gives each preset's value. */
const preset = <A>(flag: Flag.Flag<A>, text: string, key: keyof OptimizerConfig) => {
  const values = PRESETS.map((p) => showSetting(PRESET_CONFIGS[p][key]))
  const shown = values.every((v) => v === values[0])
    ? `${values[0]} in both presets`
    : PRESETS.map((p, i) => `${p} ${values[i]}`).join(", ")
  return optional(flag, `${text} (default: the preset's and ablation's, ${shown})`)
}

const flags = {
  config: configFlag,
  task: taskFlag,
  mas: masFlag,
  seed: seedFlag,
  concurrency: concurrencyFlag,
  ...providerFlags,
  ...dataFlags,
  out: optional(
    Flag.String("out"),
    "Output directory (default .maspo/runs/optimize-<task>-<mas>-<method>-<preset>[-<ablation>][-self-optimized][-supervised][-<hash of any other non-default setting>]-seed<seed>)"
  ),
  preset: defaulted(
    Flag.Literals("preset", PRESETS),
    "maspo",
    PRESETS.map((p) => `${p}: ${PRESET_HELP[p]}`).join("; ")
  ),
  ablation: optional(
    Flag.Literals("ablation", Object.keys(ABLATIONS)),
    "A Table 2 ablation applied on top of the preset (default: none)"
  ),
  beam: preset(Flag.Int("beam"), "Beam width K", "beamWidth"),
  children: preset(Flag.Int("children"), "Children per parent K_sub", "childrenPerParent"),
  steps: preset(Flag.Int("steps"), "Steps per agent visit T", "stepsPerVisit"),
  rounds: preset(Flag.Int("rounds"), "Rounds D over all agents", "rounds"),
  batch: preset(Flag.Int("batch"), "Batch size |B|", "batchSize"),
  pool: preset(Flag.Int("pool"), "Optimization pool size", "poolSize"),
  evaluator: preset(Flag.Literals("evaluator", EvaluatorKind.literals), "Candidate evaluator", "evaluator"),
  weights: preset(Flag.String("weights"), "Weights a,b,c of local, lookahead, global", "weights"),
  debiasPosition: preset(
    Flag.Boolean("debias-position"),
    "Ask each comparison in both orders, --no-debias-position to disable",
    "debiasPosition"
  ),
  refresh: preset(
    Flag.Boolean("refresh"),
    "Beam refresh on revisits, --no-refresh to disable",
    "beamRefresh"
  ),
  sampling: preset(
    Flag.Literals("sampling", CaseSampling.literals),
    "Cases injected into successors' batches",
    "caseSampling"
  ),
  kmis: preset(Flag.Int("kmis"), "Misalignment cases kept per agent K_mis", "misalignmentCases"),
  lookaheadDepth: preset(
    Flag.Int("lookahead-depth"),
    "Successor levels compared by the lookahead",
    "lookaheadDepth"
  ),
  testN: optional(
    Flag.Int("test-n"),
    "Test items of the final evaluation: the first N >= 1 held-out items, all of them if fewer (default: all)"
  ),
  skipTest: defaulted(
    Flag.Boolean("skip-test"),
    false,
    "Skip the final evaluation of seed and optimized prompts on the test items"
  ),
  resume: defaulted(Flag.Boolean("resume"), false, "Continue from the checkpoint in --out"),
  method: defaulted(
    Flag.Literals("method", METHOD_NAMES),
    "maspo",
    `MASPO or a comparison optimizer, one of ${METHOD_NAMES.map((m) => `${m} (${METHOD_HELP[m]})`).join(", ")}`
  ),
  maxCalls: optional(
    Flag.Int("max-calls"),
    noDefault(
      "Stop the optimization at this many LLM calls (all roles), for equal-cost comparisons",
      "no cap"
    )
  ),
  maxTokens: optional(
    Flag.Int("max-tokens"),
    noDefault("Stop the optimization at this many tokens (prompt + completion, all roles)", "no cap")
  ),
  supervised: defaulted(
    Flag.Boolean("supervised"),
    false,
    "tpe, gepa: score candidates with the task metric on the labeled pool instead of label-free preferences"
  ),
  selfOptimized: defaulted(
    Flag.Boolean("self-optimized"),
    false,
    "Table 2's self-optimized ablation: the optimizer and evaluator roles use the agent's provider and model"
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
export const resolveOptimizerConfig = Effect.fn("resolveOptimizerConfig")(function* (input: Input) {
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
  set("debiasPosition", input.debiasPosition)
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

/** What names a default output folder: the settings of one `maspo optimize` run. */
export interface OptimizeRunName {
  readonly run: RunConfig
  readonly optimizer: OptimizerConfig
  readonly method: MethodName
  readonly preset: "maspo" | "paper"
  readonly ablation: string | undefined
  readonly selfOptimized: boolean
  readonly supervised: boolean
  readonly cap: BudgetCap
  /** The final evaluation: skipped, the first N test items, or all of them (undefined). */
  readonly test: "skip" | number | undefined
}

/**
 * The default output folder of `maspo optimize`, distinct for any two runs that differ: task,
 * topology, method, preset, ablation, self-optimized, supervised and seed by name; any other setting
 * that changes results (individual optimizer flags, budget caps, test items, providers, data, split)
 * as a short hash of those settings, present only when one of them is not its default.
 */
export const defaultOptimizeOut = (n: OptimizeRunName): string => {
  const named = n.preset === "paper" ? paperDefaults : maspoDefaults
  const base = n.ablation !== undefined ? ABLATIONS[n.ablation]!(named) : named
  const extras = {
    ...(stableHash(n.optimizer) !== stableHash(base) ? { optimizer: n.optimizer } : {}),
    ...(Object.keys(n.cap).length > 0 ? { cap: n.cap } : {}),
    ...(n.test !== undefined ? { test: n.test } : {}),
    ...(Object.keys(n.run.providers).length > 0 ? { providers: n.run.providers } : {}),
    ...(n.run.dataDir !== undefined ? { dataDir: n.run.dataDir } : {}),
    ...(n.run.split !== undefined ? { split: n.run.split } : {})
  }
  const parts = [
    "optimize",
    n.run.task,
    n.run.topology,
    n.method,
    n.preset,
    ...(n.ablation !== undefined ? [n.ablation] : []),
    ...(n.selfOptimized ? ["self-optimized"] : []),
    ...(n.supervised ? ["supervised"] : []),
    ...(Object.keys(extras).length > 0 ? [stableHash(extras).slice(0, 8)] : []),
    `seed${n.run.seed}`
  ]
  return `.maspo/runs/${parts.join("-")}`
}

export const optimizeCommand = Command.make(
  "optimize",
  flags,
  Effect.fn("maspo.optimize")(function* (input) {
    if (input.skipTest && Option.isSome(input.testN))
      return yield* new InputError({ source: "--skip-test", message: "cannot be combined with --test-n" })
    const resolved = yield* resolveRunConfig({ ...input, n: Option.none() }, true)
    const run = input.selfOptimized ? selfOptimized(resolved) : resolved
    const optimizer = yield* resolveOptimizerConfig(input)
    const cap: BudgetCap = {
      ...(Option.isSome(input.maxCalls) ? { maxCalls: input.maxCalls.value } : {}),
      ...(Option.isSome(input.maxTokens) ? { maxTokens: input.maxTokens.value } : {})
    }
    const out = Option.getOrElse(input.out, () =>
      defaultOptimizeOut({
        run,
        optimizer,
        method: input.method,
        preset: input.preset,
        ablation: Option.getOrUndefined(input.ablation),
        selfOptimized: input.selfOptimized,
        supervised: input.supervised,
        cap,
        test: input.skipTest ? "skip" : Option.getOrUndefined(input.testN)
      })
    )
    // Before any call: an output folder that cannot be written fails before anything is paid for.
    yield* ensureWritableDirectory(out, "--out")
    yield* ensureCacheDirectory(cacheSettings(run))
    yield* runOptimization({
      run,
      optimizer,
      method: input.method,
      cap,
      supervised: input.supervised,
      out,
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
