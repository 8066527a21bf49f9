import { Effect } from "effect"
import {
  agentTrace,
  type Comparison,
  type ModelCallError,
  MasExecutor,
  PairwiseJudge,
  type PromptSet,
  type Task,
  type TaskItem,
  type Topology,
  type Trace
} from "@maspo/core"

/**
 * Shared scoring for the comparison optimizers: run a prompt set on items, and score a candidate
 * against a reference either label-free (pairwise preferences of the evaluator LLM, position-debiased)
 * or with labels (the task's scorer). Every call goes through the LanguageModel, so it is counted.
 */

export const runSystem = (
  topology: Topology,
  prompts: PromptSet,
  task: Task,
  items: ReadonlyArray<TaskItem>,
  concurrency: number
): Effect.Effect<ReadonlyArray<Trace>, ModelCallError, MasExecutor> =>
  Effect.gen(function* () {
    const executor = yield* MasExecutor
    return yield* Effect.forEach(items, (item) => executor.run(topology, prompts, task, item), {
      concurrency
    })
  })

/** Re-runs only `agentId` and its descendants with new prompts, reusing the reference's upstream outputs. */
export const rerunAgent = (
  topology: Topology,
  prompts: PromptSet,
  task: Task,
  items: ReadonlyArray<TaskItem>,
  reference: ReadonlyArray<Trace>,
  agentId: string,
  concurrency: number
): Effect.Effect<ReadonlyArray<Trace>, ModelCallError, MasExecutor> =>
  Effect.gen(function* () {
    const executor = yield* MasExecutor
    return yield* Effect.forEach(
      items,
      (item, i) => executor.rerunFrom(topology, prompts, task, item, reference[i]!, agentId),
      { concurrency }
    )
  })

export interface JudgeSettings {
  readonly debiasPosition: boolean
  readonly seed: number
}

/** What is compared on one item besides its question: the level and the two responses. */
type ItemComparison = Omit<Comparison, "question">

/** Per item: the judge's preference for the candidate's response over the reference's. */
const judgeEachItem = (
  items: ReadonlyArray<TaskItem>,
  comparisonAt: (i: number) => ItemComparison,
  judge: JudgeSettings,
  concurrency: number
): Effect.Effect<ReadonlyArray<number>, ModelCallError, PairwiseJudge> =>
  Effect.gen(function* () {
    const j = yield* PairwiseJudge
    return yield* Effect.forEach(
      items,
      (item, i) =>
        j.compare(
          { question: item.question, ...comparisonAt(i) },
          { debiasPosition: judge.debiasPosition, seed: judge.seed, skipIdentical: true, memoize: true }
        ),
      { concurrency }
    )
  })

/** Per item: 1 if the candidate's final answer is preferred, 0 if the reference's, 0.5 for a tie. */
export const globalPreferences = (
  items: ReadonlyArray<TaskItem>,
  candidate: ReadonlyArray<Trace>,
  reference: ReadonlyArray<Trace>,
  judge: JudgeSettings,
  concurrency: number
): Effect.Effect<ReadonlyArray<number>, ModelCallError, PairwiseJudge> =>
  judgeEachItem(
    items,
    (i) => ({
      level: "global",
      reference: reference[i]!.finalOutput,
      candidate: candidate[i]!.finalOutput
    }),
    judge,
    concurrency
  )

/** Per item: the local preference for the candidate's output of one agent over the reference's. */
export const localPreferences = (
  items: ReadonlyArray<TaskItem>,
  candidate: ReadonlyArray<Trace>,
  reference: ReadonlyArray<Trace>,
  agentId: string,
  agentRole: string,
  judge: JudgeSettings,
  concurrency: number
): Effect.Effect<ReadonlyArray<number>, ModelCallError, PairwiseJudge> =>
  judgeEachItem(
    items,
    (i) => ({
      level: "local",
      agentRole,
      reference: agentTrace(reference[i]!, agentId)!.rawOutput,
      candidate: agentTrace(candidate[i]!, agentId)!.rawOutput
    }),
    judge,
    concurrency
  )

/** Per item: the task's ground-truth score of a trace (supervised variants only). */
export const labelScores = (
  task: Task,
  labeled: ReadonlyArray<TaskItem>,
  traces: ReadonlyArray<Trace>
): Effect.Effect<ReadonlyArray<number>> =>
  Effect.forEach(labeled, (item, i) => task.score(item, traces[i]!.finalOutput))
