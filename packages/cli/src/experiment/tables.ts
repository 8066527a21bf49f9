import { BudgetReport, emptyReport, totalTally } from "@maspo/core"
import {
  accuracyVsCallsPlot,
  type CellResult,
  type CellStep,
  misalignmentPlot,
  renderTable,
  scorePerStepPlot,
  summarizeCells
} from "@maspo/core/results"
import { Effect, FileSystem, Schema } from "effect"
import { readJsonAs } from "../output.ts"
import { type Cell, cellDir, type ExperimentConfig, planCells } from "./config.ts"

const TestFile = Schema.Struct({
  items: Schema.Array(Schema.String),
  optimized: Schema.Struct({ accuracy: Schema.Number, scores: Schema.Array(Schema.Number) })
})
const ManifestBudget = Schema.Struct({
  budget: Schema.Struct({ optimization: Schema.NullOr(BudgetReport), total: Schema.NullOr(BudgetReport) })
})

/** One line of a step log, MASPO's or a comparison optimizer's, read loosely for plots. */
const stepOf = (raw: Record<string, unknown>, i: number): CellStep => {
  const budget = raw["budget"] as BudgetReport | undefined
  const beam = raw["beam"] as ReadonlyArray<{ score: number }> | undefined
  const candidates = raw["candidates"] as ReadonlyArray<{ score: number; accepted: boolean }> | undefined
  const accepted = candidates?.filter((c) => c.accepted).map((c) => c.score) ?? []
  const score = beam?.[0]?.score ?? (accepted.length > 0 ? Math.max(...accepted) : undefined)
  return {
    index: typeof raw["index"] === "number" ? raw["index"] : i,
    ...(typeof raw["agentId"] === "string" ? { agentId: raw["agentId"] } : {}),
    kind: typeof raw["kind"] === "string" ? raw["kind"] : "step",
    ...(score !== undefined ? { score } : {}),
    ...(typeof raw["misalignmentRate"] === "number" ? { misalignmentRate: raw["misalignmentRate"] } : {}),
    calls: budget ? totalTally(budget).calls : 0
  }
}

/**
 * Tables report calls and tokens, not how many were live or cached: that split depends on what the
 * cache held when the cell ran (a replay serves everything from it), and is kept in each manifest.
 */
const withoutCacheSplit = (report: BudgetReport): BudgetReport => {
  const strip = (t: BudgetReport["agent"]) => ({ ...t, liveCalls: 0, cacheHits: 0 })
  return {
    agent: strip(report.agent),
    optimizer: strip(report.optimizer),
    evaluator: strip(report.evaluator)
  }
}

/**
 * A finished cell's result as the table builders take it: its whole cost (optimization plus test
 * evaluation) and the optimization's own, the figure a budget cap limits.
 */
export const readCell = Effect.fn("readCell")(function* (out: string, cell: Cell) {
  const fs = yield* FileSystem.FileSystem
  const dir = cellDir(out, cell)
  const test = yield* readJsonAs(TestFile)(`${dir}/test.json`)
  const manifest = yield* readJsonAs(ManifestBudget)(`${dir}/manifest.json`)
  const stepsFile = `${dir}/steps.jsonl`
  const steps = (yield* fs.exists(stepsFile))
    ? (yield* fs.readFileString(stepsFile))
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l, i) => stepOf(JSON.parse(l) as Record<string, unknown>, i))
    : []
  const result: CellResult = {
    task: cell.task,
    topology: cell.topology,
    method: cell.method.name,
    seed: cell.seed,
    testItemIds: test.items,
    scores: test.optimized.scores,
    accuracy: test.optimized.accuracy,
    budget: withoutCacheSplit(manifest.budget.total ?? emptyReport()),
    ...(manifest.budget.optimization !== null
      ? { optimizationBudget: withoutCacheSplit(manifest.budget.optimization) }
      : {}),
    ...(steps.length > 0 ? { steps } : {})
  }
  return result
})

/** Every finished cell of an experiment, in plan order. */
export const collectCells = Effect.fn("collectCells")(function* (config: ExperimentConfig, out: string) {
  const fs = yield* FileSystem.FileSystem
  const cells: Array<CellResult> = []
  for (const cell of planCells(config))
    if (yield* fs.exists(`${cellDir(out, cell)}/manifest.json`)) cells.push(yield* readCell(out, cell))
  return cells
})

const EXTENSIONS = { markdown: "md", csv: "csv", json: "json", latex: "tex" } as const

/**
 * Tables (accuracy as the paper's Table 1, costs, and ablations as Table 2 when the experiment has
 * any) in Markdown, CSV, JSON and LaTeX, and SVG plots, from the finished cells. Every number is a
 * pure function of the cells, so a replay from the cache rewrites the same bytes.
 */
export const buildTables = Effect.fn("buildTables")(function* (config: ExperimentConfig, out: string) {
  const fs = yield* FileSystem.FileSystem
  const cells = yield* collectCells(config, out)
  const methods = config.methods.map((m) => m.name)
  const seedMethod = config.baseline ?? (methods.includes("seed") ? "seed" : methods[0]!)
  const ours = config.methods.filter((m) => m.kind === "maspo" || m.kind === "transfer").map((m) => m.name)
  const summary = yield* summarizeCells(cells, { seed: 0, seedMethod, ours })
  const files: Array<string> = []
  const write = (file: string, text: string) =>
    Effect.gen(function* () {
      yield* fs.makeDirectory(`${out}/${file.split("/").slice(0, -1).join("/")}`, { recursive: true })
      yield* fs.writeFileString(`${out}/${file}`, text)
      files.push(`${out}/${file}`)
    })
  const paper = config.paper !== undefined ? { paper: config.paper } : {}
  const ablations = config.methods.filter((m) => m.kind === "maspo").map((m) => m.name)
  for (const format of ["markdown", "csv", "json", "latex"] as const) {
    const ext = EXTENSIONS[format]
    yield* write(`tables/accuracy.${ext}`, renderTable(summary, { format, methods, ...paper }))
    yield* write(`tables/costs.${ext}`, renderTable(summary, { format, kind: "costs", methods }))
    if (ablations.length > 1)
      for (const topology of summary.topologies)
        yield* write(
          `tables/ablations-${topology}.${ext}`,
          renderTable(summary, { format, kind: "ablation", topology, methods: ablations, ...paper })
        )
  }
  for (const topology of summary.topologies) {
    yield* write(`plots/score-per-step-${topology}.svg`, scorePerStepPlot(cells, { topology, by: "method" }))
    yield* write(`plots/misalignment-${topology}.svg`, misalignmentPlot(cells, { topology }))
    yield* write(`plots/accuracy-vs-calls-${topology}.svg`, accuracyVsCallsPlot(cells, { topology }))
  }
  return files
})
