import { ABLATIONS, OptimizerOverrides, PositiveInt, RunConfig, Seed } from "@maspo/core"
import { Schema } from "effect"

/**
 * An experiment: tasks x topologies x methods x seeds, with providers, caps, data and cache. `maspo
 * run` executes every cell of it; `maspo table` turns the finished cells into tables and plots.
 */

export { OptimizerOverrides }

export const MethodSpec = Schema.Struct({
  /** The row name in tables (unique within the experiment). */
  name: Schema.String,
  /**
   * seed: the unoptimized MAS; single: a single-agent row (`system`); maspo: MASPO (with `preset`/`ablation`); spo, ape, tpe, gepa: the
   * comparison optimizers; transfer: the prompts another method found, evaluated with this method's
   * providers (the paper's Table 3).
   */
  kind: Schema.Literals(["seed", "single", "maspo", "spo", "ape", "tpe", "gepa", "transfer"]),
  /** single: the single-agent system evaluated in place of the topology. */
  system: Schema.optional(Schema.Literals(["vanilla", "cot", "self-consistency", "self-refine"])),
  preset: Schema.optional(Schema.Literals(["maspo", "paper"])),
  ablation: Schema.optional(Schema.Literals(Object.keys(ABLATIONS) as [string, ...Array<string>])),
  supervised: Schema.optional(Schema.Boolean),
  selfOptimized: Schema.optional(Schema.Boolean),
  optimizer: Schema.optional(OptimizerOverrides),
  /** transfer: the method whose prompts (same task, topology and seed) are evaluated. */
  from: Schema.optional(Schema.String),
  /** Per-method providers (transfer: the model the prompts move to). */
  providers: Schema.optional(RunConfig.fields.providers),
  /** Per-method request templates (see the run config's `templates`), replacing the experiment's. */
  templates: Schema.optional(RunConfig.fields.templates)
})
export type MethodSpec = typeof MethodSpec.Type

export const ExperimentConfig = Schema.Struct({
  name: Schema.String,
  /** Where cells, tables, plots and the exported cache go. */
  out: Schema.String,
  tasks: Schema.Array(Schema.String),
  topologies: Schema.Array(Schema.String),
  methods: Schema.Array(MethodSpec),
  seeds: Schema.Array(Seed),
  /** Test items per cell: the first testN held-out items (all when absent). */
  testN: Schema.optional(PositiveInt),
  /** Cells run at the same time (default 1) and questions at the same time within a cell (default 8). */
  concurrency: Schema.optional(PositiveInt),
  questionConcurrency: Schema.optional(PositiveInt),
  providers: Schema.optional(RunConfig.fields.providers),
  cache: Schema.optional(RunConfig.fields.cache),
  dataDir: Schema.optional(Schema.String),
  split: Schema.optional(RunConfig.fields.split),
  /** Request templates of every cell (see the run config's `templates`). */
  templates: Schema.optional(RunConfig.fields.templates),
  /** A cap on every optimization's LLM calls / tokens (equal-cost comparisons). */
  budget: Schema.optional(
    Schema.Struct({ maxCalls: Schema.optional(PositiveInt), maxTokens: Schema.optional(PositiveInt) })
  ),
  optimizer: Schema.optional(OptimizerOverrides),
  /** The unoptimized row that every method is tested against (default "seed"). */
  baseline: Schema.optional(Schema.String),
  /** Published numbers to print beside ours: method -> task -> accuracy in percent, as printed. */
  paper: Schema.optional(Schema.Record(Schema.String, Schema.Record(Schema.String, Schema.Number)))
})
export type ExperimentConfig = typeof ExperimentConfig.Type

export interface Cell {
  readonly task: string
  readonly topology: string
  readonly method: MethodSpec
  readonly seed: number
}

/** Every cell, transfers last (they read another cell's prompts). */
export const planCells = (config: ExperimentConfig): ReadonlyArray<Cell> => {
  const cells = config.tasks.flatMap((task) =>
    config.topologies.flatMap((topology) =>
      config.methods.flatMap((method) => config.seeds.map((seed) => ({ task, topology, method, seed })))
    )
  )
  return [
    ...cells.filter((c) => c.method.kind !== "transfer"),
    ...cells.filter((c) => c.method.kind === "transfer")
  ]
}

export const cellDir = (out: string, cell: Cell): string =>
  `${out}/cells/${cell.task}/${cell.topology}/${cell.method.name}/seed${cell.seed}`

export const cellLabel = (cell: Cell): string =>
  `${cell.task}/${cell.topology}/${cell.method.name}/seed${cell.seed}`
