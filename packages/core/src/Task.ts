import type { Effect } from "effect"

export type TaskKind = "math" | "choice" | "code" | "arith"

/** One evaluation item. `gold` is never shown to the optimizer or a label-free evaluator. */
export interface TaskItem {
  readonly id: string
  readonly question: string
  readonly gold: string
  /** Task-specific payload a scorer needs (tests for code items, options for choice items). */
  readonly meta?: Readonly<Record<string, unknown>>
}

/**
 * What the executor and scorers need to know about a task. Core declares it; the benchmarks
 * package and the embedded simulator implement it.
 */
export interface Task {
  readonly name: string
  readonly kind: TaskKind
  /** Word limit of an agent's compressed output: 30 for math and choice, 50 for code. */
  readonly compressionWords: number
  /** The answer a reply gives, or undefined when none can be found. */
  readonly extract: (reply: string) => string | undefined
  /** Key under which equivalent answers vote together in majority aggregators. */
  readonly voteKey: (answer: string) => string
  /** 1 if the reply solves the item, else 0. Code tasks execute tests, hence an Effect. */
  readonly score: (item: TaskItem, reply: string) => Effect.Effect<number>
}

export const compressionWordsFor = (kind: TaskKind): number => (kind === "code" ? 50 : 30)

/** How a reply must state its answer so the task's extractor finds it (used in seed prompts). */
export const ANSWER_FORMAT: Readonly<Record<TaskKind, string>> = {
  math: "Write the final answer in LaTeX inside \\boxed{} at the end of your reply.",
  choice:
    "End your reply with the letter of the chosen option inside <answer></answer> tags, e.g. <answer>C</answer>.",
  code: "Reply with the complete Python solution in a single ```python fenced block, defining the function the task names.",
  arith: "Put the final answer in <answer></answer> tags."
}
