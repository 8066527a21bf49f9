import { Effect, Schema } from "effect"
import {
  Budget,
  type BudgetCap,
  type BudgetReport,
  BudgetReport as BudgetReportSchema,
  type PromptSet,
  spentOf,
  type Task,
  type TaskItem,
  type Topology
} from "@maspo/core"

/**
 * What every comparison optimizer (SPO-style, APE/OPRO-style, TPE, GEPA-style) takes and returns, so
 * they all run with the same providers, cache, seeds, splits and budget accounting as MASPO, and can
 * be compared at equal cost.
 */

export type { BudgetCap } from "@maspo/core"

export interface BaselineInput {
  readonly topology: Topology
  readonly task: Task
  /** The optimization pool WITHOUT labels (label-free methods see only this). */
  readonly pool: ReadonlyArray<TaskItem>
  /** The same pool WITH labels; present only when a supervised variant was asked for. */
  readonly labeledPool?: ReadonlyArray<TaskItem>
  /** The prompt set to start from (the seed prompts). */
  readonly prompts: PromptSet
  readonly seed: number
  /** Questions run at the same time. */
  readonly concurrency: number
  /** A hard cap on the optimization's calls and tokens: no call that could cross it is sent. */
  readonly cap: BudgetCap
}

/** One candidate a method scored. */
export const BaselineCandidate = Schema.Struct({
  agentId: Schema.optional(Schema.String),
  /** The candidate's prompt for `agentId`, or the whole prompt set for joint methods. */
  prompt: Schema.optional(Schema.String),
  prompts: Schema.optional(Schema.Record(Schema.String, Schema.String)),
  score: Schema.Number,
  accepted: Schema.Boolean,
  note: Schema.optional(Schema.String)
})
export type BaselineCandidate = typeof BaselineCandidate.Type

/** One step of a method's log: same shape for every method, like MASPO's steps.jsonl. */
export const BaselineStep = Schema.Struct({
  index: Schema.Int,
  method: Schema.String,
  /** What the step did, e.g. "propose", "trial", "mutate", "merge". */
  kind: Schema.String,
  agentId: Schema.optional(Schema.String),
  candidates: Schema.Array(BaselineCandidate),
  /** The method's best prompt set after the step. */
  best: Schema.Record(Schema.String, Schema.String),
  /** The run's budget after the step (running totals). */
  budget: BudgetReportSchema
})
export type BaselineStep = typeof BaselineStep.Type

export interface BaselineResult {
  readonly method: string
  readonly prompts: PromptSet
  readonly log: ReadonlyArray<BaselineStep>
  /** Why the run ended: its own schedule finished, or the budget cap was reached. */
  readonly stoppedBy: "schedule" | "budget"
}

/** Total calls and tokens (prompt + completion) of a budget report. */
export const spent = (report: BudgetReport): { readonly calls: number; readonly tokens: number } =>
  spentOf(report)

/**
 * Runs a method's whole search with `cap` in force. Every LLM call is then admitted by the Budget's
 * gate before it is sent; a method runs each step through `completedStep`, which turns a refusal into
 * the end of the run, and discards that step's unfinished work.
 */
export const underCap = <A, E, R>(cap: BudgetCap, search: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    return yield* (yield* Budget).withCap(cap, search)
  })

/** A step-log builder that numbers steps and stamps each with the running budget. */
export const stepLogger = (method: string) => {
  const log: Array<BaselineStep> = []
  const record = (step: Omit<BaselineStep, "index" | "method" | "budget">) =>
    Effect.gen(function* () {
      const budget = yield* (yield* Budget).report
      log.push({ ...step, index: log.length, method, budget })
    })
  return { log, record }
}
