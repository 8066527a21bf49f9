import { Schema, Struct } from "effect"
import { LevelWeights, NonNegativeInt, PositiveInt } from "../Bounds.ts"
import { TemplateSetName } from "../templates/Template.ts"

export const EvaluatorKind = Schema.Literals(["joint", "local", "global", "ground-truth"])
export type EvaluatorKind = typeof EvaluatorKind.Type

/** Which items from earlier agents' evaluations are injected into a successor's next batch. */
export const JudgePosition = Schema.Literals(["candidate-first", "seeded-coin", "both-orders"])
export type JudgePosition = typeof JudgePosition.Type

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
  /**
   * Where the candidate is shown: always as A (the released code), at a seeded coin's side, or in
   * both orders (a win counts only if both orders agree).
   */
  judgePosition: JudgePosition,
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
  maxInjected: NonNegativeInt,
  // How the maspo preset departs from the released algorithm, one switch each (README: "Paper
  // preset and maspo switches"). `false` is the released behaviour unless noted.
  /** Disagreeing orders and unparsable verdicts are 0.5; off, a verdict is a win or a loss. */
  tiesAtHalf: Schema.Boolean,
  /** `[agentId] text` in a successor's context; off, the bare texts joined by the separator. */
  labelledContext: Schema.Boolean,
  /** Compression replies are cut to the word limit. */
  enforceWordLimit: Schema.Boolean,
  /** One batch per step shared by every parent (later parents reuse upstream outputs); off, one batch per parent with a full run each. */
  sharedStepBatch: Schema.Boolean,
  /** Cases from every child, merged by severity and recency; off, from the new best's candidate only, replacing, released priority. */
  casesFromAllChildren: Schema.Boolean,
  /** Each case injected once per successor; off, the predecessors' stored cases at every step. */
  injectOnce: Schema.Boolean,
  /** A `<feedback>` note on injected traces. */
  caseFeedbackNote: Schema.Boolean,
  /** Weights renormalised over the levels judged; off, 0.7 local + 0.3 global when no lookahead comparison was made. */
  renormalizeWeights: Schema.Boolean,
  /** Lookahead: successor comparisons with an empty output skipped, rate pooled over the comparisons made (released: on); off, every successor compared and averaged per item. */
  lookaheadPooled: Schema.Boolean,
  /** Refresh scored by the step's evaluator; off, 0.7 local + 0.3 global without lookahead. */
  jointRefresh: Schema.Boolean,
  /** One beam entry per prompt (the higher J). */
  dedupeBeam: Schema.Boolean,
  /** An unusable or parent-equal proposal adds a copy of its parent to the beam (released: on). */
  failedProposalKeepsParent: Schema.Boolean,
  /** The agent's prompt is the top of the current beam; off, a best-so-far changed only when beaten by more than 1e-6. */
  bestFromBeamTop: Schema.Boolean,
  /** The current best is put back in the beam on refresh when absent. */
  keepBestOnRefresh: Schema.Boolean,
  /** No reference run on refresh when every member equals the best. */
  skipIdleRefreshRun: Schema.Boolean,
  /** LaTeX-aware slots (`\boxed{x}` is text); off, a candidate with any other brace expression falls back to its parent. */
  latexAwareSlots: Schema.Boolean,
  /** A comparison already answered for the same texts is not asked again. */
  judgeMemo: Schema.Boolean,
  /** Identical outputs score 0.5 without asking (only with both orders, where it changes no decision). */
  skipIdenticalOutputs: Schema.Boolean
})
export type OptimizerConfig = typeof OptimizerConfig.Type

/** Any subset of the fields, each checked as in the full config: a run config's or an experiment's `optimizer`. */
export const OptimizerOverrides = OptimizerConfig.mapFields(Struct.map(Schema.optional))
export type OptimizerOverrides = typeof OptimizerOverrides.Type

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
  judgePosition: "candidate-first",
  singleJudgeRequest: false,
  templateSet: "paper",
  lookaheadDepth: 1,
  caseSampling: "misalignment",
  misalignmentCases: 3,
  maxInjected: 5,
  tiesAtHalf: false,
  labelledContext: false,
  enforceWordLimit: false,
  sharedStepBatch: false,
  casesFromAllChildren: false,
  injectOnce: false,
  caseFeedbackNote: false,
  renormalizeWeights: false,
  lookaheadPooled: true,
  jointRefresh: false,
  dedupeBeam: false,
  failedProposalKeepsParent: true,
  bestFromBeamTop: false,
  keepBestOnRefresh: false,
  skipIdleRefreshRun: false,
  latexAwareSlots: false,
  judgeMemo: false,
  skipIdenticalOutputs: false
}

/** Our recommended configuration: the released search with every maspo switch on. */
export const maspoDefaults: OptimizerConfig = {
  ...paperDefaults,
  judgePosition: "both-orders",
  singleJudgeRequest: true,
  templateSet: "maspo",
  tiesAtHalf: true,
  labelledContext: true,
  enforceWordLimit: true,
  sharedStepBatch: true,
  casesFromAllChildren: true,
  injectOnce: true,
  caseFeedbackNote: true,
  renormalizeWeights: true,
  lookaheadPooled: false,
  jointRefresh: true,
  dedupeBeam: true,
  failedProposalKeepsParent: false,
  bestFromBeamTop: true,
  keepBestOnRefresh: true,
  skipIdleRefreshRun: true,
  latexAwareSlots: true,
  judgeMemo: true,
  skipIdenticalOutputs: true
}

/**
 * The switches by which the maspo preset departs from the released algorithm, each meaningful
 * alone. `templateSet` and `singleJudgeRequest` differ too but go together (a set provides only the
 * judge requests one value of `singleJudgeRequest` asks for).
 */
export const SWITCHES = [
  "judgePosition",
  "tiesAtHalf",
  "labelledContext",
  "enforceWordLimit",
  "sharedStepBatch",
  "casesFromAllChildren",
  "injectOnce",
  "caseFeedbackNote",
  "renormalizeWeights",
  "lookaheadPooled",
  "jointRefresh",
  "dedupeBeam",
  "failedProposalKeepsParent",
  "bestFromBeamTop",
  "keepBestOnRefresh",
  "skipIdleRefreshRun",
  "latexAwareSlots",
  "judgeMemo",
  "skipIdenticalOutputs"
] as const satisfies ReadonlyArray<keyof OptimizerConfig>

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
