import { Effect } from "effect"
import { MasExecutor } from "./Executor.ts"
import type { PromptSet } from "./PromptSet.ts"
import { type Interval, wilsonInterval } from "./stats.ts"
import type { Task, TaskItem } from "./Task.ts"
import type { Topology } from "./Topology.ts"
import type { Trace } from "./Trace.ts"

export interface ScoredTrace {
  readonly trace: Trace
  readonly score: number
}

export interface EvaluationResult {
  readonly scored: ReadonlyArray<ScoredTrace>
  readonly correct: number
  readonly n: number
  readonly accuracy: number
  readonly ci95: Interval
}

export const summarize = (scored: ReadonlyArray<ScoredTrace>): EvaluationResult => {
  const correct = scored.reduce((s, x) => s + x.score, 0)
  const n = scored.length
  return { scored, correct, n, accuracy: n === 0 ? 0 : correct / n, ci95: wilsonInterval(correct, n) }
}

/**
 * Runs any per-item method (a topology, a single-agent baseline) on every item and scores the final
 * outputs with the task's ground-truth scorer. Results keep the items' order whatever the
 * concurrency, so output files are reproducible.
 */
export const evaluateRunner = Effect.fn("evaluateRunner")(function* <E, R>(
  runner: (item: TaskItem) => Effect.Effect<Trace, E, R>,
  task: Task,
  items: ReadonlyArray<TaskItem>,
  options: { readonly concurrency: number; readonly onItem?: (done: number) => Effect.Effect<void> }
) {
  let done = 0
  const scored = yield* Effect.forEach(
    items,
    (item) =>
      runner(item).pipe(
        Effect.flatMap((trace) =>
          Effect.map(task.score(item, trace.finalOutput), (score) => ({ trace, score }))
        ),
        Effect.tap(() => (options.onItem ? options.onItem(++done) : Effect.void))
      ),
    { concurrency: options.concurrency }
  )
  return summarize(scored)
})

/** `evaluateRunner` for a topology with a prompt set. */
export const evaluateSystem = Effect.fn("evaluateSystem")(function* (
  topology: Topology,
  prompts: PromptSet,
  task: Task,
  items: ReadonlyArray<TaskItem>,
  options: { readonly concurrency: number; readonly onItem?: (done: number) => Effect.Effect<void> }
) {
  const executor = yield* MasExecutor
  return yield* evaluateRunner((item) => executor.run(topology, prompts, task, item), task, items, options)
})
