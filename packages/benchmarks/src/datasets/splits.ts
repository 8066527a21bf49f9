import { deriveSeed, InputError, SeededRng, type TaskItem } from "@maspo/core"
import { Effect } from "effect"
import { itemOrigin, loadDataset } from "./load.ts"

/**
 * - `heldout` (the default): the optimization pool and the test set are disjoint.
 * - `paper`: the pool is drawn from the test file and the test set is the whole test file, so they
 *   overlap. Only for comparison with the paper's released code; never report it as held-out accuracy.
 */
export type SplitMode = "heldout" | "paper"

export interface SplitOptions {
  /**
   * Data-split seed (default 0). Separate from the run seed, so every run seed sees the same test set;
   * recorded in the manifest.
   */
  readonly seed?: number
  /** Optimization pool size (default 50). */
  readonly poolSize?: number
  readonly mode?: SplitMode
}

export interface SplitManifest {
  readonly dataset?: string
  readonly mode: SplitMode
  readonly seed: number
  readonly poolIds: ReadonlyArray<string>
  readonly testIds: ReadonlyArray<string>
  readonly poolSize: number
  readonly testSize: number
}

export interface Split {
  /**
   * Optimization pool, WITH labels: strip them (`unlabeled`, or core's `stripLabels`) before the
   * optimizer or a label-free evaluator sees the items.
   */
  readonly pool: ReadonlyArray<TaskItem>
  readonly test: ReadonlyArray<TaskItem>
  readonly manifest: SplitManifest
}

export const DEFAULT_SPLIT_SEED = 0
export const DEFAULT_POOL_SIZE = 50

/** A seeded sample of `size` items (in sampled order); the same seed and items give the same pool. */
export const drawPool = (items: ReadonlyArray<TaskItem>, seed: number, size: number): Array<TaskItem> =>
  new SeededRng(deriveSeed(seed, "data-split")).sample(items, Math.max(0, Math.floor(size)))

const manifestOf = (
  mode: SplitMode,
  seed: number,
  pool: ReadonlyArray<TaskItem>,
  test: ReadonlyArray<TaskItem>,
  dataset?: string
): SplitManifest => ({
  ...(dataset !== undefined ? { dataset } : {}),
  mode,
  seed,
  poolIds: pool.map((i) => i.id),
  testIds: test.map((i) => i.id),
  poolSize: pool.length,
  testSize: test.length
})

/**
 * Splits one item list. heldout: a seeded sample of `poolSize` items is the pool and all other items,
 * in their original order, are the test set. paper: the same pool, and the test set is every item.
 * A pool larger than the list is clamped (`loadSplit` rejects it instead).
 */
export const splitItems = (items: ReadonlyArray<TaskItem>, options: SplitOptions = {}): Split => {
  const seed = options.seed ?? DEFAULT_SPLIT_SEED
  const mode = options.mode ?? "heldout"
  const pool = drawPool(items, seed, options.poolSize ?? DEFAULT_POOL_SIZE)
  const inPool = new Set(pool.map((i) => i.id))
  const test = mode === "paper" ? items.slice() : items.filter((i) => !inPool.has(i.id))
  return { pool, test, manifest: manifestOf(mode, seed, pool, test) }
}

/**
 * Splits with a separate pool source: the pool is drawn from `poolSource`, the test set is `test`
 * (AQuA heldout: pool from val.jsonl, test = test.jsonl). Ids shared by both lists are dropped from
 * the test set, so the result stays disjoint.
 */
export const splitWithValidation = (
  poolSource: ReadonlyArray<TaskItem>,
  testItems: ReadonlyArray<TaskItem>,
  options: SplitOptions = {}
): Split => {
  const seed = options.seed ?? DEFAULT_SPLIT_SEED
  const pool = drawPool(poolSource, seed, options.poolSize ?? DEFAULT_POOL_SIZE)
  const inPool = new Set(pool.map((i) => i.id))
  const test = testItems.filter((i) => !inPool.has(i.id))
  return { pool, test, manifest: manifestOf("heldout", seed, pool, test) }
}

/**
 * Loads a dataset and splits it by its own rule:
 * - AQuA heldout: the pool is drawn from val.jsonl, the test set is all of test.jsonl.
 * - AQuA paper: the pool is drawn from test.jsonl, the test set is all of test.jsonl.
 * - every other set: `splitItems` over its single file.
 * A pool size that is not a non-negative integer, or that leaves no test items (heldout) or exceeds
 * the pool source, is an InputError whose source is "poolSize".
 */
export const loadSplit = (
  name: string,
  dataDir?: string,
  options: SplitOptions = {}
): Effect.Effect<Split, InputError> =>
  Effect.gen(function* () {
    const items = yield* loadDataset(name, dataDir)
    const mode = options.mode ?? "heldout"
    const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE
    const val = items.filter((i) => itemOrigin(i) === "val")
    const test = items.filter((i) => itemOrigin(i) === "test")
    const poolSource = mode === "heldout" && val.length > 0 ? val : test
    const separate = poolSource !== test
    const max = separate || mode === "paper" ? poolSource.length : poolSource.length - 1
    if (!Number.isInteger(poolSize) || poolSize < 0 || poolSize > max)
      return yield* new InputError({
        source: "poolSize",
        message: `pool size ${poolSize} for ${name} (${mode}) must be an integer in [0, ${max}]`
      })
    const split = separate
      ? splitWithValidation(poolSource, test, options)
      : splitItems(test, { ...options, mode })
    return { ...split, manifest: { dataset: name, ...split.manifest } }
  }).pipe(Effect.withSpan("loadSplit"))

/** Meta keys that carry labels (tests, reference code) and are removed by `unlabeled`. */
const LABEL_META_KEYS: ReadonlySet<string> = new Set(["tests", "test"])

/**
 * Items as the optimizer sees them: gold emptied and label-carrying meta (the tests of code items)
 * removed. Stricter than core's `stripLabels`, which only empties gold.
 */
export const unlabeled = (items: ReadonlyArray<TaskItem>): Array<TaskItem> =>
  items.map((item) => {
    const { meta, ...rest } = item
    if (meta === undefined) return { ...rest, gold: "" }
    return {
      ...rest,
      gold: "",
      meta: Object.fromEntries(Object.entries(meta).filter(([k]) => !LABEL_META_KEYS.has(k)))
    }
  })
