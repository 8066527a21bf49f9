import {
  Budget,
  type BudgetReport,
  deriveSeed,
  evaluateSystem,
  formatBudget,
  formatPercent,
  initialState,
  InputError,
  isFinished,
  makeTopology,
  type OptimizeInput,
  type OptimizerConfig,
  OptimizerState,
  pairedBootstrap,
  type PromptSet,
  runMaspo,
  type RunConfig,
  seedPrompts,
  spentOf,
  stableHash,
  stripLabels,
  describeCap,
  isCapped,
  overshoot
} from "@maspo/core"
import { type BudgetCap, COMPARISON_METHODS, type ComparisonMethod } from "@maspo/baselines"
import { Console, Effect, Schema } from "effect"
import { pathExists, renameFile } from "./files.ts"
import { formatDifferences, settingsDiff } from "./settingsDiff.ts"
import { optimizerLayer, systemLayer } from "./layers.ts"
import { readJsonAs, writeJson, writeJsonl } from "./output.ts"
import { describeSplit, lookupTopology, openTask } from "./registry.ts"
import { resolveTemplates, templatesRecord } from "./templates.ts"

/** Every optimization method the CLI can run: MASPO (and its ablations) and the comparison optimizers. */
export type MethodName = "maspo" | ComparisonMethod
export const METHOD_NAMES: ReadonlyArray<MethodName> = [
  "maspo",
  ...(Object.keys(COMPARISON_METHODS) as Array<ComparisonMethod>)
]

export interface OptimizationRequest {
  readonly run: RunConfig
  readonly optimizer: OptimizerConfig
  readonly method: MethodName
  readonly cap: BudgetCap
  /** Comparison optimizers that can use labels (TPE, GEPA) score with the task metric. */
  readonly supervised: boolean
  readonly out: string
  readonly resume: boolean
  /** The final evaluation: the first n held-out test items (all when absent), or none. */
  readonly test: number | "skip" | undefined
  /** Print progress lines (the experiment runner prints its own). */
  readonly verbose: boolean
}

export interface TestOutcome {
  readonly items: ReadonlyArray<string>
  readonly seedScores: ReadonlyArray<number>
  readonly scores: ReadonlyArray<number>
  readonly seedAccuracy: number
  readonly accuracy: number
  readonly budget: BudgetReport
}

export interface OptimizationOutcome {
  readonly prompts: PromptSet
  readonly budget: BudgetReport
  readonly stoppedBy: "schedule" | "budget"
  readonly test?: TestOutcome
}

/**
 * Runs one optimization (any method) and its held-out test evaluation, writing into `out`:
 * split.json, prompts.json, steps.jsonl, budget.json, test.json (and checkpoint.json for MASPO, which
 * resumes from it). Returns undefined when a MASPO run stopped early on request (tests only).
 */
export const runOptimization = Effect.fn("runOptimization")(function* (req: OptimizationRequest) {
  const { run, optimizer: config, out } = req
  const say = (line: string) => (req.verbose ? Console.log(line) : Effect.void)
  // Comparison optimizers ask maspo's generic judge request (the run config may still name a set)
  // and add no feedback notes.
  const templates = yield* resolveTemplates(
    run,
    req.method === "maspo"
      ? config
      : { ...config, singleJudgeRequest: true, templateSet: "maspo", caseFeedbackNote: false }
  )
  const entry = yield* openTask(run, config.poolSize, templates)
  const topology = yield* makeTopology(yield* lookupTopology(entry, run.topology))
  const pool = entry.pool
  const seeds = seedPrompts(topology)

  let prompts: PromptSet
  let budget: BudgetReport
  let stoppedBy: "schedule" | "budget"
  let log: ReadonlyArray<unknown>
  if (req.method === "maspo") {
    const input: OptimizeInput = {
      topology,
      task: entry.task,
      // The optimizer never sees labels, except the ground-truth evaluator (an analysis tool).
      pool: config.evaluator === "ground-truth" ? pool : stripLabels(pool),
      prompts: seeds,
      config,
      seed: run.seed,
      concurrency: run.concurrency,
      cap: req.cap
    }
    const checkpointFile = `${out}/checkpoint.json`
    // Concurrency and the cache do not change results, so a run may resume or replay with other values.
    const settings = JSON.parse(
      JSON.stringify({
        run: { ...run, concurrency: 0, cache: undefined },
        config,
        cap: req.cap,
        pool: pool.map((i) => i.id)
      })
    ) as unknown
    const identity = stableHash(settings)
    let start = initialState(input)
    if (req.resume && (yield* pathExists(checkpointFile))) {
      const saved = yield* readJsonAs(
        Schema.Struct({
          identity: Schema.String,
          settings: Schema.optional(Schema.Unknown),
          state: OptimizerState
        })
      )(checkpointFile)
      if (saved.identity !== identity) {
        const diffs = saved.settings === undefined ? [] : settingsDiff(saved.settings, settings)
        return yield* new InputError({
          source: checkpointFile,
          message:
            "the checkpoint belongs to different settings" +
            (diffs.length > 0 ? ` (${formatDifferences(diffs)})` : "") +
            "; resume with the checkpoint's settings, or use another --out, or drop --resume to start afresh"
        })
      }
      start = saved.state
      yield* say(`resuming at step ${start.cursor} from ${checkpointFile}`)
    }
    const writeCheckpoint = (state: OptimizerState) =>
      Effect.gen(function* () {
        // Write then rename, so a kill mid-write never leaves a torn checkpoint.
        yield* writeJson(`${checkpointFile}.tmp`, {
          identity,
          // Kept so that a resume with other settings can say which fields differ.
          settings,
          state: Schema.encodeSync(OptimizerState)(state)
        })
        yield* renameFile(`${checkpointFile}.tmp`, checkpointFile)
      })
    const state = yield* runMaspo(input, start, {
      checkpoint: (s) => {
        const last = s.log[s.log.length - 1]
        return Effect.andThen(
          writeCheckpoint(s),
          say(
            s.stopped === "budget" || last === undefined
              ? `step ${s.cursor}: stopped at the budget cap (this step's work is discarded)`
              : `step ${s.cursor}: ${last.agentId} ${last.kind}, best J ${last.beam[0]!.score.toFixed(3)}`
          )
        )
      }
    }).pipe(Effect.provide(optimizerLayer(run, config, entry.simulator, templates)))
    if (!isFinished(input, state) && state.stopped === undefined) return undefined
    prompts = state.prompts
    budget = state.budget
    stoppedBy = state.stopped ?? "schedule"
    log = state.log
  } else {
    const runner = COMPARISON_METHODS[req.method]
    const result = yield* Effect.gen(function* () {
      const r = yield* runner(
        {
          topology,
          task: entry.task,
          pool: stripLabels(pool),
          ...(req.supervised ? { labeledPool: pool } : {}),
          prompts: seeds,
          seed: run.seed,
          concurrency: run.concurrency,
          cap: req.cap
        },
        { supervised: req.supervised, debiasPosition: config.judgePosition === "both-orders" }
      )
      return { ...r, budget: yield* (yield* Budget).report }
    }).pipe(Effect.provide(optimizerLayer(run, config, entry.simulator, templates)))
    prompts = result.prompts
    budget = result.budget
    stoppedBy = result.stoppedBy
    log = result.log
  }

  const testItems = req.test === "skip" ? [] : entry.test.slice(0, req.test ?? entry.test.length)
  yield* writeJson(`${out}/split.json`, { ...entry.split, testIds: testItems.map((i) => i.id) })
  yield* writeJson(`${out}/prompts.json`, prompts)
  yield* writeJsonl(`${out}/steps.jsonl`, log)
  // `used` is what the optimization spent (the discarded last step of a capped run included); the
  // held-out test evaluation below is the measurement, outside the cap, and reported apart.
  const used = spentOf(budget)
  const over = overshoot(used, req.cap)
  yield* writeJson(`${out}/budget.json`, {
    method: req.method,
    cap: req.cap,
    stoppedBy,
    used,
    overshoot: over,
    budget
  })
  // Only when the run config names templates: with the preset's own set the run is what it was
  // before templates existed, and its committed outputs replay file for file.
  if (run.templates !== undefined) yield* writeJson(`${out}/templates.json`, templatesRecord(templates))
  yield* say(`optimized prompts: ${out}/prompts.json\nstep log: ${out}/steps.jsonl`)
  yield* say(
    [
      formatBudget(budget),
      ...(isCapped(req.cap)
        ? [
            `optimization used ${used.calls} calls, ${used.tokens} tokens of the cap ${describeCap(req.cap)}` +
              (stoppedBy === "budget"
                ? " (stopped at the cap; the last, unfinished step was discarded)"
                : "") +
              (over.calls > 0 || over.tokens > 0
                ? `; OVER the cap by ${over.calls} calls, ${over.tokens} tokens (a provider reported more tokens than the bound)`
                : "")
          ]
        : [])
    ].join("\n")
  )

  if (testItems.length === 0) return { prompts, budget, stoppedBy } satisfies OptimizationOutcome
  const result = yield* Effect.gen(function* () {
    const options = { concurrency: run.concurrency }
    const seed = yield* evaluateSystem(topology, seeds, entry.task, testItems, options)
    const best = yield* evaluateSystem(topology, prompts, entry.task, testItems, options)
    return { seed, best, budget: yield* (yield* Budget).report }
  }).pipe(
    // The test runs the system the optimization optimized (the paper preset's context, compression
    // and templates).
    Effect.provide(
      systemLayer(run, entry.simulator, templates, {
        labelledContext: config.labelledContext,
        enforceWordLimit: config.enforceWordLimit
      })
    )
  )
  const seedScores = result.seed.scored.map((s) => s.score)
  const scores = result.best.scored.map((s) => s.score)
  const diff = pairedBootstrap(scores, seedScores, { seed: deriveSeed(run.seed, "bootstrap") })
  yield* writeJson(`${out}/test.json`, {
    items: testItems.map((i) => i.id),
    seed: { accuracy: result.seed.accuracy, ci95: result.seed.ci95, scores: seedScores },
    optimized: { accuracy: result.best.accuracy, ci95: result.best.ci95, scores },
    difference: diff,
    budget: result.budget
  })
  const line = (name: string, r: typeof result.seed) =>
    `  ${name.padEnd(10)} ${formatPercent(r.accuracy)} (${r.correct}/${r.n}), 95% CI [${formatPercent(r.ci95.low)}, ${formatPercent(r.ci95.high)}]`
  yield* say(
    [
      describeSplit(entry.split, testItems.length),
      `test (${testItems.length} items):`,
      line("seed", result.seed),
      line("optimized", result.best),
      `  difference ${formatPercent(diff.diff)}, paired bootstrap 95% CI [${formatPercent(diff.ci.low)}, ${formatPercent(diff.ci.high)}]`,
      `test-evaluation ${formatBudget(result.budget)}`,
      `results: ${out}/test.json`
    ].join("\n")
  )
  return {
    prompts,
    budget,
    stoppedBy,
    test: {
      items: testItems.map((i) => i.id),
      seedScores,
      scores,
      seedAccuracy: result.seed.accuracy,
      accuracy: result.best.accuracy,
      budget: result.budget
    }
  } satisfies OptimizationOutcome
})
