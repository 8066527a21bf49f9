import { BudgetReport, emptyReport, InputError, totalTally } from "@maspo/core"
import {
  accuracyVsCallsPlot,
  type CellResult,
  type CellStep,
  type LeftOut,
  type LeftOutCell,
  misalignmentPlot,
  renderTable,
  scorePerStepPlot,
  summarizeCells
} from "@maspo/core/results"
import { Effect, FileSystem, Schema } from "effect"
import { readTextFile, writeTextFile } from "../files.ts"
import { readJsonAs } from "../output.ts"
import { type Cell, cellDir, type ExperimentConfig, planCells } from "./config.ts"
import { isCellComplete } from "./runCell.ts"

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
  const test = yield* readJsonAs(TestFile, { excess: "ignore" })(`${dir}/test.json`)
  const manifest = yield* readJsonAs(ManifestBudget, { excess: "ignore" })(`${dir}/manifest.json`)
  const stepsFile = `${dir}/steps.jsonl`
  const steps = (yield* fs.exists(stepsFile))
    ? (yield* readTextFile(stepsFile))
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

/** Where a planned cell stands: only `complete` cells (manifest written, same settings) go in a table. */
export const cellStatus = Effect.fn("cellStatus")(function* (
  config: ExperimentConfig,
  out: string,
  cell: Cell
) {
  const fs = yield* FileSystem.FileSystem
  const dir = cellDir(out, cell)
  if (!(yield* fs.exists(dir))) return "missing" as const
  if (!(yield* fs.exists(`${dir}/manifest.json`))) return "incomplete" as const
  return (yield* isCellComplete(config, out, cell)) ? ("complete" as const) : ("stale" as const)
})

export type CellStatus = "complete" | LeftOutCell["status"]

/**
 * Which planned cells the tables use (in plan order) and what they leave out, from each cell's
 * status. A row (method, task, topology) is used only when the cells of all its seeds are complete:
 * a mean over fewer seeds than the other rows would not be comparable with them, and paired tests
 * need every seed.
 */
export const tableSelection = (
  plan: ReadonlyArray<Cell>,
  statuses: ReadonlyArray<CellStatus>
): { readonly use: ReadonlyArray<Cell>; readonly leftOut: LeftOut } => {
  const rowKey = (c: Cell) => JSON.stringify([c.task, c.topology, c.method.name])
  const rows = new Map<string, { cell: Cell; seeds: number; complete: number }>()
  for (const [i, cell] of plan.entries()) {
    const row = rows.get(rowKey(cell)) ?? { cell, seeds: 0, complete: 0 }
    row.seeds += 1
    if (statuses[i] === "complete") row.complete += 1
    rows.set(rowKey(cell), row)
  }
  const use: Array<Cell> = []
  const cells: Array<LeftOutCell> = []
  for (const [i, cell] of plan.entries()) {
    const status = statuses[i]!
    const row = rows.get(rowKey(cell))!
    if (status !== "complete")
      cells.push({
        task: cell.task,
        topology: cell.topology,
        method: cell.method.name,
        seed: cell.seed,
        status
      })
    else if (row.complete === row.seeds) use.push(cell)
  }
  const leftOutRows = [...rows.values()]
    .filter((r) => r.complete < r.seeds)
    .map((r) => ({
      task: r.cell.task,
      topology: r.cell.topology,
      method: r.cell.method.name,
      seeds: r.seeds,
      complete: r.complete
    }))
  return { use, leftOut: { cells, rows: leftOutRows } }
}

/** The finished cells of an experiment that the tables use, in plan order, and what is left out. */
export const collectCells = Effect.fn("collectCells")(function* (config: ExperimentConfig, out: string) {
  const plan = planCells(config)
  const statuses = yield* Effect.forEach(plan, (cell) => cellStatus(config, out, cell))
  const { use, leftOut } = tableSelection(plan, statuses)
  const cells: Array<CellResult> = yield* Effect.forEach(use, (cell) => readCell(out, cell))
  return { cells, leftOut }
})

const STATUS_TEXT = {
  missing: "missing (never run)",
  incomplete: "incomplete (no manifest.json: interrupted or failed)",
  stale: "stale (finished with settings other than experiment.json's)"
} as const

/** What the tables leave out, for people: rows first, then every cell behind them. */
export const describeLeftOut = (leftOut: LeftOut, out: string): string => {
  if (leftOut.cells.length === 0) return ""
  const rows = leftOut.rows.map(
    (r) =>
      `  ${r.task}/${r.topology}/${r.method}: ` +
      (r.complete === 0
        ? `missing (no complete cell of ${r.seeds})`
        : `partial (${r.complete} of ${r.seeds} seeds complete)`) +
      `: left out of the tables, and so is its Avg. for ${r.topology}`
  )
  const cells = leftOut.cells.map(
    (c) => `  ${c.task}/${c.topology}/${c.method}/seed${c.seed}: ${STATUS_TEXT[c.status]}`
  )
  return [
    `warning: the tables of ${out} leave out ${leftOut.rows.length} row(s) whose cells are not all complete:`,
    ...rows,
    `cells not complete (\`maspo run\` on the experiment's config runs them):`,
    ...cells
  ].join("\n")
}

const EXTENSIONS = { markdown: "md", csv: "csv", json: "json", latex: "tex" } as const

/**
 * Tables (accuracy as the paper's Table 1, costs, and ablations as Table 2 when the experiment has
 * any) in Markdown, CSV, JSON and LaTeX, and SVG plots, from the finished cells. Every number is a
 * pure function of the cells, so a replay from the cache rewrites the same bytes.
 */
export const buildTables = Effect.fn("buildTables")(function* (config: ExperimentConfig, out: string) {
  const { cells, leftOut } = yield* collectCells(config, out)
  if (cells.length === 0)
    return yield* new InputError({
      source: out,
      message: `no row of the experiment has all its cells complete, so there is no table to build\n${describeLeftOut(leftOut, out)}`
    })
  const methods = config.methods.map((m) => m.name)
  const seedMethod = config.baseline ?? (methods.includes("seed") ? "seed" : methods[0]!)
  const ours = config.methods.filter((m) => m.kind === "maspo" || m.kind === "transfer").map((m) => m.name)
  const summary = yield* summarizeCells(cells, { seed: 0, seedMethod, ours })
  const files: Array<string> = []
  const write = (file: string, text: string) =>
    Effect.gen(function* () {
      yield* writeTextFile(`${out}/${file}`, text)
      files.push(`${out}/${file}`)
    })
  const paper = config.paper !== undefined ? { paper: config.paper } : {}
  const ablations = config.methods.filter((m) => m.kind === "maspo").map((m) => m.name)
  for (const format of ["markdown", "csv", "json", "latex"] as const) {
    const ext = EXTENSIONS[format]
    yield* write(`tables/accuracy.${ext}`, renderTable(summary, { format, methods, leftOut, ...paper }))
    yield* write(`tables/costs.${ext}`, renderTable(summary, { format, kind: "costs", methods, leftOut }))
    if (ablations.length > 1)
      for (const topology of summary.topologies)
        yield* write(
          `tables/ablations-${topology}.${ext}`,
          renderTable(summary, { format, kind: "ablation", topology, methods: ablations, leftOut, ...paper })
        )
  }
  for (const topology of summary.topologies) {
    yield* write(`plots/score-per-step-${topology}.svg`, scorePerStepPlot(cells, { topology, by: "method" }))
    yield* write(`plots/misalignment-${topology}.svg`, misalignmentPlot(cells, { topology }))
    yield* write(`plots/accuracy-vs-calls-${topology}.svg`, accuracyVsCallsPlot(cells, { topology }))
  }
  return { files, leftOut }
})
