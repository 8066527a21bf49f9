import { Schema } from "effect"
import { BudgetReport } from "../Budget.ts"

/** One optimization step of a finished cell, as far as plots need it. */
export const CellStep = Schema.Struct({
  index: Schema.Number,
  agentId: Schema.optional(Schema.String),
  kind: Schema.String,
  /** Best score after the step. */
  score: Schema.optional(Schema.Number),
  misalignmentRate: Schema.optional(Schema.Number),
  /** Running total of calls after the step. */
  calls: Schema.Number
})
export type CellStep = typeof CellStep.Type

/**
 * One finished cell of an experiment: a method run on a task with a topology and a seed, scored on
 * the test items (`scores[i]` is the 0/1 score of `testItemIds[i]`).
 */
export const CellResult = Schema.Struct({
  task: Schema.String,
  topology: Schema.String,
  method: Schema.String,
  seed: Schema.Int,
  testItemIds: Schema.Array(Schema.String),
  scores: Schema.Array(Schema.Number),
  accuracy: Schema.Number,
  /** Everything the cell used: the optimization and the test evaluation. */
  budget: BudgetReport,
  /**
   * What the optimization alone used: the part a budget cap limits, so the figure to compare methods
   * by. Absent for rows without an optimization (the unoptimized MAS, single agents, transfers).
   */
  optimizationBudget: Schema.optional(BudgetReport),
  steps: Schema.optional(Schema.Array(CellStep))
})
export type CellResult = typeof CellResult.Type

/** A cell that cannot be used, or two cells that cannot be paired. */
export const CellMismatch = Schema.Struct({
  topology: Schema.String,
  task: Schema.String,
  method: Schema.String,
  /** The other method of a paired comparison, when the problem is a pairing. */
  against: Schema.optional(Schema.String),
  seed: Schema.optional(Schema.Number),
  reason: Schema.String
})
export type CellMismatch = typeof CellMismatch.Type

export const formatMismatch = (m: CellMismatch): string =>
  `${m.topology} / ${m.task} / ${m.method}` +
  (m.against === undefined ? "" : ` vs ${m.against}`) +
  (m.seed === undefined ? "" : ` (seed ${m.seed})`) +
  `: ${m.reason}`

/** Invalid cells or cells that cannot be paired by seed and item ids; lists every one of them. */
export class CellMismatchError extends Schema.TaggedError<CellMismatchError>()("CellMismatchError", {
  mismatches: Schema.Array(CellMismatch),
  message: Schema.String
}) {}

export const cellMismatchError = (mismatches: ReadonlyArray<CellMismatch>): CellMismatchError =>
  new CellMismatchError({
    mismatches,
    message:
      `${mismatches.length} cell problem(s):\n` + mismatches.map((m) => `  - ${formatMismatch(m)}`).join("\n")
  })

/**
 * A planned cell that a table was built without: `missing` (never started), `incomplete` (started,
 * no manifest: interrupted or failed) or `stale` (finished with settings other than the experiment's).
 */
export const LeftOutCell = Schema.Struct({
  task: Schema.String,
  topology: Schema.String,
  method: Schema.String,
  seed: Schema.Int,
  status: Schema.Literals(["missing", "incomplete", "stale"])
})
export type LeftOutCell = typeof LeftOutCell.Type

/** A row (method on a task with a topology) left out of the tables because not every seed's cell is complete. */
export const LeftOutRow = Schema.Struct({
  task: Schema.String,
  topology: Schema.String,
  method: Schema.String,
  /** Seeds planned, and how many of their cells are complete (0: the row is missing, else partial). */
  seeds: Schema.Int,
  complete: Schema.Int
})
export type LeftOutRow = typeof LeftOutRow.Type

/** What an experiment's tables leave out, and why. */
export const LeftOut = Schema.Struct({
  cells: Schema.Array(LeftOutCell),
  rows: Schema.Array(LeftOutRow)
})
export type LeftOut = typeof LeftOut.Type
