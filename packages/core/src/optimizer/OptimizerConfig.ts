import { Schema } from "effect"
import { LevelWeights, NonNegativeInt, PositiveInt } from "../Bounds.ts"
import { TemplateSetName } from "../templates/Template.ts"

export const EvaluatorKind = Schema.Literals(["joint", "local", "global", "ground-truth"])
export type EvaluatorKind = typeof EvaluatorKind.Type

/** Which items from earlier agents' evaluations are injected into a successor's next batch. */
export const CaseSampling = Schema.Literals(["misalignment", "random", "success"])
export type CaseSampling = typeof CaseSampling.Type

/** MASPO's search settings; defaults are the paper's (see `paperDefaults`). */
export const OptimizerConfig = Schema.Struct({
  /** Beam width K (1 = the "serial search" ablation). */
  beamWidth: PositiveInt,
  /** Children proposed per parent (K_sub), one optimizer call per part of the batch. */
  childrenPerParent: PositiveInt,
  /** Steps per agent visit (T). */
  stepsPerVisit: PositiveInt,
  /** Rounds over all agents (D; 1 = the "single cycle" ablation). */
  rounds: PositiveInt,
  batchSize: PositiveInt,
  poolSize: PositiveInt,
  /** Re-score the beam against the current best on each revisit. */
  beamRefresh: Schema.Boolean,
  evaluator: EvaluatorKind,
  weights: LevelWeights,
  /** Ask each comparison in both orders; a win counts only if both orders agree. */
  debiasPosition: Schema.Boolean,
  /**
   * One generic judge request for every level, the terminal agent judged like a global comparison
   * (maspo), instead of the released code's three requests by level: the intermediate comparison
   * (local, lookahead), the final-answer comparison with the task's requirement (global) and, for
   * the terminal agent, the answer evaluation with its role and the requirement.
   */
  singleJudgeRequest: Schema.Boolean,
  /**
   * The shipped request template set (packages/core/templates/<set>): wording, fields, reply formats
   * and token limits of every request. A run config's `templates` may replace it or single kinds.
   */
  templateSet: TemplateSetName,
  /** How many successor levels the lookahead term looks at (1 = immediate successors, the paper). */
  lookaheadDepth: PositiveInt,
  caseSampling: CaseSampling,
  /** Misalignment cases kept per agent (K_mis). */
  misalignmentCases: NonNegativeInt,
  /** At most this many injected cases in one batch. */
  maxInjected: NonNegativeInt
})
export type OptimizerConfig = typeof OptimizerConfig.Type

export const paperDefaults: OptimizerConfig = {
  beamWidth: 2,
  childrenPerParent: 2,
  stepsPerVisit: 3,
  rounds: 3,
  batchSize: 10,
  poolSize: 50,
  beamRefresh: true,
  evaluator: "joint",
  weights: { local: 0.4, lookahead: 0.4, global: 0.2 },
  debiasPosition: false,
  singleJudgeRequest: false,
  templateSet: "paper",
  lookaheadDepth: 1,
  caseSampling: "misalignment",
  misalignmentCases: 3,
  maxInjected: 5
}

/** Our recommended configuration: the paper's, with position debiasing on and one judge request. */
export const maspoDefaults: OptimizerConfig = {
  ...paperDefaults,
  debiasPosition: true,
  singleJudgeRequest: true,
  templateSet: "maspo"
}

/** The ablations of the paper's Table 2, as config transformations. */
export const ABLATIONS: Readonly<Record<string, (c: OptimizerConfig) => OptimizerConfig>> = {
  full: (c) => c,
  "serial-search": (c) => ({ ...c, beamWidth: 1 }),
  "single-cycle": (c) => ({ ...c, rounds: 1 }),
  "no-refresh": (c) => ({ ...c, beamRefresh: false }),
  "local-only": (c) => ({ ...c, evaluator: "local" }),
  "global-only": (c) => ({ ...c, evaluator: "global" }),
  "random-sampling": (c) => ({ ...c, caseSampling: "random" }),
  "success-sampling": (c) => ({ ...c, caseSampling: "success" })
}
