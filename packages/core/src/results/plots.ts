import { mean } from "../stats.ts"
import type { CellResult } from "./CellResult.ts"
import { findAverage, findRow, summarizeCellsLenient } from "./summarize.ts"
import { type ChartSeries, lineChart, scatterChart } from "./svg.ts"

export interface PlotFilter {
  readonly topology?: string
  readonly task?: string
  readonly method?: string
  readonly title?: string
}

const filterCells = (cells: ReadonlyArray<CellResult>, f: PlotFilter): ReadonlyArray<CellResult> =>
  cells.filter(
    (c) =>
      (f.topology === undefined || c.topology === f.topology) &&
      (f.task === undefined || c.task === f.task) &&
      (f.method === undefined || c.method === f.method)
  )

const describe = (f: PlotFilter): string =>
  [f.method, f.task, f.topology].filter((x): x is string => x !== undefined).join(", ")

/**
 * Series of the mean (over cells) of a per-step value against the step index, grouped by agent or
 * by method. Series and points come in a fixed order (first appearance; ascending index).
 */
const stepSeries = (
  cells: ReadonlyArray<CellResult>,
  by: "agent" | "method",
  value: (s: NonNullable<CellResult["steps"]>[number]) => number | undefined
): Array<ChartSeries> => {
  const groups = new Map<string, Map<number, Array<number>>>()
  for (const cell of cells) {
    for (const step of cell.steps ?? []) {
      const v = value(step)
      if (v === undefined || !Number.isFinite(v)) continue
      const name = by === "agent" ? (step.agentId ?? "(all agents)") : cell.method
      const byIndex = groups.get(name) ?? new Map<number, Array<number>>()
      const list = byIndex.get(step.index) ?? []
      list.push(v)
      byIndex.set(step.index, list)
      groups.set(name, byIndex)
    }
  }
  return [...groups.entries()].map(([name, byIndex]) => ({
    name,
    points: [...byIndex.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([index, vs]) => [index, mean(vs)] as const)
  }))
}

/** Best score after each optimization step, one line per agent (mean over the matching cells). */
export const scorePerStepPlot = (
  cells: ReadonlyArray<CellResult>,
  options: PlotFilter & { readonly by?: "agent" | "method" } = {}
): string => {
  const d = describe(options)
  return lineChart({
    title: options.title ?? `Best score per optimization step${d === "" ? "" : ` (${d})`}`,
    xLabel: "optimization step",
    yLabel: "best score",
    series: stepSeries(filterCells(cells, options), options.by ?? "agent", (s) => s.score)
  })
}

/** Misalignment rate per optimization step, one line per method (default) or per agent. */
export const misalignmentPlot = (
  cells: ReadonlyArray<CellResult>,
  options: PlotFilter & { readonly by?: "agent" | "method" } = {}
): string => {
  const d = describe(options)
  return lineChart({
    title: options.title ?? `Misalignment rate per optimization step${d === "" ? "" : ` (${d})`}`,
    xLabel: "optimization step",
    yLabel: "misalignment rate",
    series: stepSeries(filterCells(cells, options), options.by ?? "method", (s) => s.misalignmentRate)
  })
}

/**
 * One point per method: mean calls of the optimization per seed (the part a budget cap limits; 0 for
 * rows without one, the test evaluation excluded) against mean accuracy (%), with CI whiskers. With
 * one task (after filtering) the task's numbers; with several, the "Avg." over tasks (methods missing
 * a task are left out). Several topologies give one point per (method, topology).
 */
export const accuracyVsCallsPlot = (
  cells: ReadonlyArray<CellResult>,
  options: PlotFilter & { readonly seed?: number; readonly resamples?: number } = {}
): string => {
  const chosen = filterCells(cells, options)
  const summary = summarizeCellsLenient(chosen, {
    seed: options.seed ?? 0,
    resamples: options.resamples ?? 1000,
    allowMismatches: true
  })
  const series: Array<ChartSeries> = []
  for (const topology of summary.topologies) {
    const tasks = summary.tasks[topology] ?? []
    for (const method of summary.methods[topology] ?? []) {
      const stat =
        tasks.length === 1
          ? findRow(summary, topology, method, tasks[0]!)
          : findAverage(summary, topology, method)
      if (stat === undefined) continue
      series.push({
        name: summary.topologies.length > 1 ? `${method} (${topology})` : method,
        points: [[stat.optimizationCost.calls, 100 * stat.accuracy]],
        whiskers: [[100 * stat.ci.low, 100 * stat.ci.high]]
      })
    }
  }
  const d = describe({ ...options, method: undefined })
  return scatterChart({
    title: options.title ?? `Accuracy vs. LLM calls${d === "" ? "" : ` (${d})`}`,
    xLabel: "LLM calls of the optimization per seed (all roles; test evaluation excluded)",
    yLabel: "accuracy (%)",
    series
  })
}
