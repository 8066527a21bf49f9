import { deriveSeed, InputError, type Task, type TaskItem, type TopologySpec } from "@maspo/core"
import { arithTask, generateArithItems, SIM_TOPOLOGIES } from "@maspo/core/sim"
import { Effect } from "effect"

/** Everything the CLI needs to run a task: its scorer, its items and the topologies it supports. */
export interface TaskEntry {
  readonly task: Task
  readonly description: string
  /** Held-out test items (the first `n` when given). */
  readonly testItems: (n: number | undefined) => Effect.Effect<ReadonlyArray<TaskItem>, InputError>
  /** The optimization pool for a run seed, disjoint from the test items. */
  readonly poolItems: (seed: number, size: number) => Effect.Effect<ReadonlyArray<TaskItem>, InputError>
  readonly topologies: Readonly<Record<string, TopologySpec>>
}

/** The simulator's synthetic test set is fixed, like a dataset file: the same items for every run seed. */
const ARITH_TEST_SEED = 20_260_001
const ARITH_TEST_SIZE = 500

const arith: TaskEntry = {
  task: arithTask,
  description: "synthetic multi-step arithmetic, answered by the embedded simulator",
  testItems: (n) =>
    Effect.succeed(
      generateArithItems(ARITH_TEST_SEED, Math.min(n ?? ARITH_TEST_SIZE, ARITH_TEST_SIZE), "test")
    ),
  // Pool items come from their own generator stream and split name, so they never coincide with test items.
  poolItems: (seed, size) => Effect.succeed(generateArithItems(deriveSeed(seed, "arith-pool"), size, "pool")),
  topologies: SIM_TOPOLOGIES
}

export const TASKS: Readonly<Record<string, TaskEntry>> = { arith }

export const lookupTask = (name: string): Effect.Effect<TaskEntry, InputError> => {
  const entry = TASKS[name]
  return entry
    ? Effect.succeed(entry)
    : Effect.fail(
        new InputError({
          source: "--task",
          message: `unknown task '${name}'; known: ${Object.keys(TASKS).join(", ")}`
        })
      )
}

export const lookupTopology = (entry: TaskEntry, name: string): Effect.Effect<TopologySpec, InputError> => {
  const spec = entry.topologies[name]
  return spec
    ? Effect.succeed(spec)
    : Effect.fail(
        new InputError({
          source: "--mas",
          message: `task '${entry.task.name}' has no topology '${name}'; known: ${Object.keys(entry.topologies).join(", ")}`
        })
      )
}
