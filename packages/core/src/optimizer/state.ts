import { Schema } from "effect"
import { BudgetReport } from "../Budget.ts"
import { PromptSet } from "../PromptSet.ts"

export const BeamMemberSchema = Schema.Struct({ prompt: Schema.String, score: Schema.Number })

export const CaseRecordSchema = Schema.Struct({
  itemId: Schema.String,
  agentId: Schema.String,
  severity: Schema.Number,
  seq: Schema.Number
})

export const AgentSearchState = Schema.Struct({
  beam: Schema.Array(BeamMemberSchema),
  /** This agent's top cases (misalignment or success), offered to its successors' next batches. */
  cases: Schema.Array(CaseRecordSchema),
  /** Keys of cases already injected into this agent's batches. */
  delivered: Schema.Array(Schema.String),
  /** The released search's best-so-far (prompt and J), when `bestFromBeamTop` is off. */
  best: Schema.optional(BeamMemberSchema)
})
export type AgentSearchState = typeof AgentSearchState.Type

export const ChildLog = Schema.Struct({
  parent: Schema.Number,
  prompt: Schema.String,
  modification: Schema.String,
  reward: Schema.Number,
  local: Schema.optional(Schema.Number),
  lookahead: Schema.optional(Schema.Number),
  global: Schema.optional(Schema.Number),
  accepted: Schema.Boolean
})

export const StepLog = Schema.Struct({
  index: Schema.Number,
  round: Schema.Number,
  agentId: Schema.String,
  kind: Schema.Literals(["step", "refresh"]),
  step: Schema.Number,
  batch: Schema.Array(Schema.String),
  /** With `sharedStepBatch` off: each beam member's own batch (`batch` is the first's). */
  batches: Schema.optional(Schema.Array(Schema.Array(Schema.String))),
  injected: Schema.Array(Schema.String),
  children: Schema.Array(ChildLog),
  rejected: Schema.Array(Schema.Struct({ reason: Schema.String })),
  misalignmentRate: Schema.Number,
  beam: Schema.Array(BeamMemberSchema),
  best: Schema.String,
  budget: BudgetReport
})
export type StepLog = typeof StepLog.Type

/** Everything needed to continue a run exactly where it stopped; saved after every step. */
export const OptimizerState = Schema.Struct({
  version: Schema.Literal(1),
  /** Index of the next schedule entry to run. */
  cursor: Schema.Number,
  prompts: PromptSet,
  agents: Schema.Record(Schema.String, AgentSearchState),
  rng: Schema.Array(Schema.Number),
  /** Discovery counter for cases (tie-breaking by recency). */
  seq: Schema.Number,
  budget: BudgetReport,
  judgeMemo: Schema.Record(Schema.String, Schema.Literals(["A", "B", "candidate", ""])),
  log: Schema.Array(StepLog),
  /**
   * Set when the budget cap refused a call: the run ended there, its prompts are those of the steps
   * completed before, and `budget` includes the calls the discarded step made.
   */
  stopped: Schema.optional(Schema.Literal("budget"))
})
export type OptimizerState = typeof OptimizerState.Type
