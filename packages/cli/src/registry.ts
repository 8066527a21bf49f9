import {
  deriveSeed,
  InputError,
  type RoleClients,
  type RunConfig,
  type Task,
  type TaskItem,
  type TemplateSet,
  type TaskKind,
  type TopologySpec
} from "@maspo/core"
import { arithTestItems, arithTask, generateArithItems, SIM_TOPOLOGIES, simClients } from "@maspo/core/sim"
import {
  choiceTask,
  DATASET_NAMES,
  DATASETS,
  type DatasetName,
  DEFAULT_POOL_SIZE,
  DEFAULT_SPLIT_SEED,
  humanEvalEtTask,
  loadSplit,
  mathTask,
  mbppTask,
  resolveDataDir,
  topologiesFor,
  withOracle
} from "@maspo/benchmarks"
import { cotTopology, selfConsistencyTopology, vanillaTopology } from "@maspo/baselines"
import { Effect } from "effect"
import { unknownNameMessage, unknownNameSuffix } from "./configProblems.ts"

/** Which items a run optimizes on and tests on, recorded in every run's output. */
export interface SplitRecord {
  readonly dataset: string
  readonly mode: "heldout" | "paper" | "generated"
  readonly seed: number
  readonly dataDir?: string
  readonly poolIds: ReadonlyArray<string>
  readonly testIds: ReadonlyArray<string>
}

/** A task ready to run: its scorer, its split, its topologies and the simulator that can answer it. */
export interface OpenedTask {
  readonly task: Task
  readonly description: string
  /** All held-out test items (commands take the first n). Labeled pool (the optimize command strips labels before the optimizer sees it). */
  readonly pool: ReadonlyArray<TaskItem>
  readonly test: ReadonlyArray<TaskItem>
  readonly split: SplitRecord
  readonly topologies: Readonly<Record<string, TopologySpec>>
  /** What the embedded simulator plays for this task (an oracle for the real datasets). */
  readonly simulator: RoleClients
}

/** The single-agent comparison rows, runnable on every task like any topology. */
const singleAgentTopologies = (kind: TaskKind): Readonly<Record<string, TopologySpec>> => ({
  vanilla: vanillaTopology(kind),
  cot: cotTopology(kind),
  "self-consistency": selfConsistencyTopology(kind)
})

/** Not a topology: a runner of its own (answer, critique, revise), selected with `--mas self-refine`. */
export const SELF_REFINE = "self-refine"

export const TASK_NAMES: ReadonlyArray<string> = ["arith", ...DATASET_NAMES]

/** The topologies (and single-agent rows) of a kind of task, as `--mas` names them. */
const topologySpecs = (kind: TaskKind): Readonly<Record<string, TopologySpec>> => ({
  ...(kind === "arith" ? SIM_TOPOLOGIES : topologiesFor(kind)),
  ...singleAgentTopologies(kind)
})

/**
 * The systems a task can run (its topologies, the single-agent rows and self-refine), or undefined
 * for an unknown task: checked when a config is read, before any dataset is opened.
 */
export const systemNames = (task: string): ReadonlyArray<string> | undefined => {
  const kind: TaskKind | undefined =
    task === "arith"
      ? "arith"
      : (DATASET_NAMES as ReadonlyArray<string>).includes(task)
        ? DATASETS[task as DatasetName].kind
        : undefined
  if (kind === undefined) return undefined
  return [...Object.keys(topologySpecs(kind)), SELF_REFINE]
}

/** "arith: sequential, ...; math500, aqua: sequential, ...": the `--mas` values of every task. */
export const describeTopologies = (): string => {
  const groups = new Map<string, Array<string>>()
  for (const task of TASK_NAMES) {
    const names = (systemNames(task) ?? []).join(", ")
    groups.set(names, [...(groups.get(names) ?? []), task])
  }
  return [...groups].map(([names, tasks]) => `${tasks.join(", ")}: ${names}`).join("; ")
}

/** Why a task or a system name is not runnable (with the closest known name), or undefined if it is. */
export const taskProblem = (task: string): string | undefined =>
  systemNames(task) === undefined ? unknownNameMessage("task", task, TASK_NAMES) : undefined

export const systemProblem = (task: string, system: string, optimized = false): string | undefined => {
  if (optimized && system === SELF_REFINE) return NOT_OPTIMIZABLE
  const known = systemNames(task)
  return known === undefined || known.includes(system)
    ? undefined
    : `task '${task}' has no topology '${system}'` + unknownNameSuffix(system, known)
}

const taskFor = (name: DatasetName): Task => {
  switch (DATASETS[name].kind) {
    case "math":
      return mathTask(name)
    case "choice":
      return choiceTask(name)
    default:
      return name === "mbpp" ? mbppTask() : humanEvalEtTask()
  }
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  arith: "synthetic multi-step arithmetic, answered by the embedded simulator",
  math500: "MATH-500 (math, \\boxed{} answers)",
  "agieval-math": "AGIEval-MATH level 5 (math, \\boxed{} answers)",
  aqua: "AQuA-RAT (multiple choice A-E)",
  gpqa: "GPQA-Diamond (multiple choice A-D)",
  mbpp: "MBPP sanitized (Python, executed against its tests)",
  "humaneval-et": "HumanEval-ET (Python, executed against the extended tests)"
}

/**
 * Opens a task for a run. The simulator's test set is fixed (500 generated items) and its pool comes
 * from the run seed; a dataset's split comes from the data-split seed (default 0, the same for every
 * run seed, so test sets are comparable across seeds) and is disjoint unless `paper` mode is asked for.
 */
export const openTask = Effect.fn("openTask")(function* (
  config: RunConfig,
  poolSize: number = DEFAULT_POOL_SIZE,
  /** The run's request templates, which the simulator reads requests through besides the shipped sets. */
  templates?: TemplateSet
) {
  const sets = templates ? [templates] : []
  const name = config.task
  if (name === "arith") {
    const test = arithTestItems()
    // Pool items come from their own generator stream and split name, so they never coincide with test items.
    const pool = generateArithItems(deriveSeed(config.seed, "arith-pool"), poolSize, "pool")
    return {
      task: arithTask,
      description: DESCRIPTIONS.arith!,
      pool,
      test,
      split: {
        dataset: "arith",
        mode: "generated",
        seed: config.seed,
        poolIds: pool.map((i) => i.id),
        testIds: test.map((i) => i.id)
      },
      topologies: topologySpecs("arith"),
      simulator: simClients({}, sets)
    } satisfies OpenedTask
  }
  if (!(DATASET_NAMES as ReadonlyArray<string>).includes(name))
    return yield* new InputError({
      source: "--task",
      message: `unknown task '${name}'; known: ${TASK_NAMES.join(", ")}`
    })
  const dataset = name as DatasetName
  const dataDir = resolveDataDir(config.dataDir)
  const seed = config.split?.seed ?? DEFAULT_SPLIT_SEED
  const mode = config.split?.mode ?? "heldout"
  const split = yield* loadSplit(dataset, dataDir, { seed, poolSize, mode })
  const test = split.test
  const kind = DATASETS[dataset].kind
  return {
    task: taskFor(dataset),
    description: DESCRIPTIONS[dataset]!,
    pool: split.pool,
    test,
    split: {
      dataset,
      mode,
      seed,
      dataDir,
      poolIds: split.pool.map((i) => i.id),
      testIds: test.map((i) => i.id)
    },
    topologies: topologySpecs(kind),
    simulator: withOracle(simClients({}, sets), [...split.pool, ...split.test], kind)
  } satisfies OpenedTask
})

/** Self-refine is a runner with no agent prompts to optimize: it can only be evaluated. */
export const NOT_OPTIMIZABLE = `'${SELF_REFINE}' is a runner of its own with no agent prompts: it can be evaluated (maspo eval, an experiment's \`single\` row), not optimized`

export const lookupTopology = (entry: OpenedTask, name: string): Effect.Effect<TopologySpec, InputError> => {
  const spec = entry.topologies[name]
  if (spec === undefined && name === SELF_REFINE)
    return Effect.fail(new InputError({ source: "--mas", message: NOT_OPTIMIZABLE }))
  return spec
    ? Effect.succeed(spec)
    : Effect.fail(
        new InputError({
          source: "--mas",
          message: `task '${entry.task.name}' has no topology '${name}'; known: ${[...Object.keys(entry.topologies), SELF_REFINE].join(", ")}`
        })
      )
}

/** One line saying which items a run used, so a `paper` split is never mistaken for a held-out one. */
export const describeSplit = (split: SplitRecord, testCount: number): string =>
  split.mode === "paper"
    ? `split: paper (pool of ${split.poolIds.length} drawn from the ${testCount} test items: NOT held out; for comparison with the paper's code only)`
    : split.mode === "generated"
      ? `split: generated (pool of ${split.poolIds.length} from the run seed, fixed test set of ${testCount})`
      : `split: heldout, seed ${split.seed} (pool of ${split.poolIds.length}, disjoint from the ${testCount} test items)`
