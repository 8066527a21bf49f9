import { execFileSync } from "node:child_process"
import {
  ABLATIONS,
  addReports,
  type BudgetReport,
  maspoDefaults,
  type OptimizerConfig,
  paperDefaults,
  PromptSet,
  type RunConfig,
  stableHash,
  VERSION
} from "@maspo/core"
import { Clock, Effect, FileSystem, Schema } from "effect"
import { selfOptimized } from "../commands/optimize.ts"
import { evaluateFixed } from "../fixedEvaluation.ts"
import { type MethodName, runOptimization } from "../optimization.ts"
import { renameFile } from "../files.ts"
import { readJsonAs, writeJson } from "../output.ts"
import { cacheSettings } from "../providers.ts"
import { resolveTemplates, templatesRecord } from "../templates.ts"
import { type Cell, cellDir, type ExperimentConfig, type OptimizerOverrides } from "./config.ts"

/** The run config of one cell: the experiment's settings, the method's providers, the cell's seed. */
export const cellRunConfig = (
  config: ExperimentConfig,
  cell: Cell,
  cachePath: string,
  cacheMode: string
): RunConfig => {
  const run: RunConfig = {
    seed: cell.seed,
    task: cell.task,
    topology: cell.topology,
    concurrency: config.questionConcurrency ?? 8,
    ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}),
    ...(config.split !== undefined ? { split: config.split } : {}),
    ...((cell.method.templates ?? config.templates) !== undefined
      ? { templates: cell.method.templates ?? config.templates }
      : {}),
    cache: { path: cachePath, mode: cacheMode as "read-write" },
    providers: cell.method.providers ?? config.providers ?? {}
  }
  return cell.method.selfOptimized ? selfOptimized(run) : run
}

const applyOverrides = (c: OptimizerConfig, o: OptimizerOverrides | undefined): OptimizerConfig => {
  if (!o) return c
  const out: Record<string, unknown> = { ...c }
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v
  return out as unknown as OptimizerConfig
}

export const cellOptimizerConfig = (config: ExperimentConfig, cell: Cell): OptimizerConfig => {
  let c = cell.method.preset === "paper" ? paperDefaults : maspoDefaults
  if (cell.method.ablation) c = ABLATIONS[cell.method.ablation]!(c)
  return applyOverrides(applyOverrides(c, config.optimizer), cell.method.optimizer)
}

let commit: string | undefined
/** Asked of git once a process: an experiment writes one manifest a cell. */
const gitCommit = (): string => {
  if (commit !== undefined) return commit
  try {
    commit = execFileSync("git", ["rev-parse", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"]
    }).trim()
  } catch {
    commit = "unknown"
  }
  return commit
}

export const CellManifest = Schema.Struct({
  status: Schema.Literal("complete"),
  configHash: Schema.String
})

/** What identifies a cell's work: a finished cell is skipped only if this is unchanged. */
export const cellHash = (config: ExperimentConfig, cell: Cell): string =>
  stableHash({
    cell: { task: cell.task, topology: cell.topology, method: cell.method, seed: cell.seed },
    testN: config.testN ?? null,
    providers: config.providers ?? null,
    dataDir: config.dataDir ?? null,
    split: config.split ?? null,
    budget: config.budget ?? null,
    optimizer: config.optimizer ?? null,
    // Only when given, so the cells of experiments without templates keep their hashes.
    ...(config.templates !== undefined ? { templates: config.templates } : {})
  })

export const isCellComplete = Effect.fn("isCellComplete")(function* (
  config: ExperimentConfig,
  out: string,
  cell: Cell
) {
  const fs = yield* FileSystem.FileSystem
  const file = `${cellDir(out, cell)}/manifest.json`
  if (!(yield* fs.exists(file))) return false
  const manifest = yield* readJsonAs(CellManifest, { excess: "ignore" })(file).pipe(Effect.option)
  return manifest._tag === "Some" && manifest.value.configHash === cellHash(config, cell)
})

/** Evaluates a fixed prompt set (the seed prompts, or transferred ones) on the cell's test items. */
const evaluateOnly = Effect.fn("evaluateOnly")(function* <E>(
  run: RunConfig,
  dir: string,
  testN: number | undefined,
  promptsOf: (seeds: PromptSet) => Effect.Effect<PromptSet, E, FileSystem.FileSystem>,
  promptsSource: string,
  system?: string
) {
  const { entry, items, prompts, result, budget } = yield* evaluateFixed(run, {
    system: system ?? run.topology,
    testN,
    promptsOf,
    promptsSource
  })
  const scores = result.scored.map((s) => s.score)
  yield* writeJson(`${dir}/split.json`, { ...entry.split, testIds: items.map((i) => i.id) })
  yield* writeJson(`${dir}/prompts.json`, prompts)
  yield* writeJson(`${dir}/test.json`, {
    items: items.map((i) => i.id),
    optimized: { accuracy: result.accuracy, ci95: result.ci95, scores },
    budget
  })
  return { optimization: undefined as BudgetReport | undefined, test: budget }
})

/** Runs one cell to completion and writes its manifest last (so a cell without one is unfinished). */
export const runCell = Effect.fn("runCell")(function* (
  config: ExperimentConfig,
  out: string,
  cell: Cell,
  cache: { readonly path: string; readonly mode: string }
) {
  const dir = cellDir(out, cell)
  const startedAt = yield* Clock.currentTimeMillis
  const run = cellRunConfig(config, cell, cache.path, cache.mode)
  const optimizer = cellOptimizerConfig(config, cell)
  const kind = cell.method.kind
  let budgets: { optimization: BudgetReport | undefined; test: BudgetReport | undefined }
  if (kind === "seed" || kind === "single") {
    const system = kind === "single" ? cell.method.system : undefined
    budgets = yield* evaluateOnly(
      run,
      dir,
      config.testN,
      (seeds) => Effect.succeed(seeds),
      "seed prompts",
      system
    )
  } else if (kind === "transfer") {
    const source = cellDir(out, { ...cell, method: { name: cell.method.from ?? "", kind: "seed" } })
    budgets = yield* evaluateOnly(
      run,
      dir,
      config.testN,
      () => readJsonAs(PromptSet)(`${source}/prompts.json`),
      `${source}/prompts.json`
    )
  } else {
    const outcome = yield* runOptimization({
      run,
      optimizer,
      method: kind as MethodName,
      cap: config.budget ?? {},
      supervised: cell.method.supervised ?? false,
      out: dir,
      resume: true,
      test: config.testN,
      verbose: false
    })
    budgets = { optimization: outcome?.budget, test: outcome?.test?.budget }
  }
  const endedAt = yield* Clock.currentTimeMillis
  const split = yield* readJsonAs(
    Schema.Struct({
      dataset: Schema.String,
      mode: Schema.String,
      seed: Schema.Number,
      poolIds: Schema.Array(Schema.String),
      testIds: Schema.Array(Schema.String)
    }),
    { excess: "ignore" }
  )(`${dir}/split.json`)
  const total =
    budgets.optimization && budgets.test
      ? addReports(budgets.optimization, budgets.test)
      : (budgets.optimization ?? budgets.test)
  const settings = cacheSettings(run)
  const templates = yield* resolveTemplates(
    run,
    kind === "maspo"
      ? optimizer
      : kind === "seed" || kind === "single" || kind === "transfer"
        ? undefined
        : { ...optimizer, singleJudgeRequest: true, templateSet: "maspo", caseFeedbackNote: false }
  )
  // Written last and atomically (temp file, then rename): a cell with a manifest is complete.
  yield* writeJson(`${dir}/manifest.json.tmp`, {
    status: "complete",
    configHash: cellHash(config, cell),
    experiment: config.name,
    cell: { task: cell.task, topology: cell.topology, method: cell.method.name, seed: cell.seed },
    method: cell.method,
    // Provider settings name the environment variable holding a key, never the key itself.
    runConfig: run,
    optimizerConfig: kind === "maspo" ? optimizer : undefined,
    // The request templates' set and a hash of their content (a user's template file included).
    templates: templatesRecord(templates),
    version: VERSION,
    gitCommit: gitCommit(),
    seeds: { run: cell.seed, split: split.seed },
    split,
    providers: Object.fromEntries(
      (["agent", "optimizer", "evaluator"] as const).map((role) => {
        const p = run.providers[role]
        return [
          role,
          p === undefined
            ? { kind: "sim", model: "maspo-sim-1" }
            : { kind: p.kind, model: p.model ?? null, baseUrl: p.baseUrl ?? null }
        ]
      })
    ),
    budget: { optimization: budgets.optimization ?? null, test: budgets.test ?? null, total: total ?? null },
    cache: {
      path: settings.path,
      mode: settings.mode,
      liveCalls: total ? total.agent.liveCalls + total.optimizer.liveCalls + total.evaluator.liveCalls : 0,
      cacheHits: total ? total.agent.cacheHits + total.optimizer.cacheHits + total.evaluator.cacheHits : 0
    },
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(endedAt).toISOString()
  })
  yield* renameFile(`${dir}/manifest.json.tmp`, `${dir}/manifest.json`)
  return total
})
