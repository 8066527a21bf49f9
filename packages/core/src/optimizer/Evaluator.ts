import { Context, type Effect } from "effect"
import type { ModelCallError } from "../LanguageModel.ts"
import type { PromptSet } from "../PromptSet.ts"
import type { Task, TaskItem } from "../Task.ts"
import type { Topology } from "../Topology.ts"
import type { Trace } from "../Trace.ts"
import type { ItemVerdict } from "./misalignment.ts"

/** The reference system's run on one batch item: what a candidate is compared against. */
export interface ReferenceRun {
  readonly item: TaskItem
  readonly trace: Trace
}

export interface CandidateInput {
  readonly topology: Topology
  readonly task: Task
  /** The agent whose prompt changes. */
  readonly agentId: string
  /** The full prompt set with the candidate prompt in `agentId`'s place. */
  readonly candidatePrompts: PromptSet
  readonly reference: ReadonlyArray<ReferenceRun>
}

export interface CandidateScore {
  /** R: the weighted win rate minus 0.5, so 0 means "no better than the reference". */
  readonly reward: number
  /** Win rates per level, for the levels this evaluator judged. */
  readonly levels: { readonly local?: number; readonly lookahead?: number; readonly global?: number }
  readonly verdicts: ReadonlyArray<ItemVerdict>
  /** The candidate system's traces on the batch (the candidate's outputs, reusable as a parent's). */
  readonly traces: ReadonlyArray<Trace>
}

/**
 * Scores a candidate prompt for one agent against a reference on a batch. Implementations live in
 * `@maspo/evaluators` (joint, local-only, global-only, ground-truth); the optimizer sees only this.
 */
export class Evaluator extends Context.Service<
  Evaluator,
  {
    readonly name: string
    readonly score: (input: CandidateInput) => Effect.Effect<CandidateScore, ModelCallError>
  }
>()("@maspo/core/Evaluator") {}

/** Win rate minus 0.5 of the weighted levels that were judged, renormalising over those present. */
export const weightedReward = (
  levels: CandidateScore["levels"],
  weights: { readonly local: number; readonly lookahead: number; readonly global: number }
): number => {
  let total = 0
  let weight = 0
  for (const key of ["local", "lookahead", "global"] as const) {
    const v = levels[key]
    if (v !== undefined && weights[key] > 0) {
      total += weights[key] * v
      weight += weights[key]
    }
  }
  return weight === 0 ? 0 : total / weight - 0.5
}
