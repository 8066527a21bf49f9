import { Effect } from "effect"
import { type BudgetReport, emptyReport, emptyTally, type RoleTally, totalTally } from "../Budget.ts"
import { deriveSeed } from "../random.ts"
import {
  type Interval,
  mean,
  pairedPermutationTest,
  percentileInterval,
  seedsBootstrap,
  twoLevelDraws
} from "../stats.ts"
import {
  type CellMismatch,
  type CellMismatchError,
  cellMismatchError,
  type CellResult
} from "./CellResult.ts"

export interface SummaryOptions {
  /** Seed of every resampling; the same cells and seed give the same summary. Default 0. */
  readonly seed?: number
  /** The unoptimized MAS that every method is compared against. Default "seed". */
  readonly seedMethod?: string
  /** Methods that are never chosen as the best baseline (our own methods and their ablations). */
  readonly ours?: ReadonlyArray<string>
  /** Bootstrap resamples (default 2000). */
  readonly resamples?: number
  /** Monte Carlo sign flips when a permutation test has more than 16 non-zero differences (default 5000). */
  readonly permutations?: number
  /** Confidence level (default 0.95). */
  readonly level?: number
  /**
   * Keep going when cells are invalid or cannot be paired: invalid cells are dropped, comparisons use
   * the cells that match, and the problems are listed in `summary.mismatches`. Default false: fail.
   */
  readonly allowMismatches?: boolean
  /** Largest allowed |accuracy - mean(scores)| of a cell (default 1e-6). */
  readonly accuracyTolerance?: number
}

/** A method against another on the same (seed, item) pairs. */
export interface PairedComparison {
  readonly against: string
  /** Seeds present for both methods with the same test item ids. */
  readonly seeds: ReadonlyArray<number>
  /** Matched (seed, item) pairs. */
  readonly pairs: number
  /** Mean over matched seeds of the per-seed accuracy difference (this method minus `against`). */
  readonly diff: number
  /** Two-level paired bootstrap CI of `diff`: resample matched seeds, then (seed, item) pairs within a seed. */
  readonly ci: Interval
  /** Paired permutation (sign-flip) p-value on the per-seed accuracy differences. */
  readonly pValue: number
  /** The CI excludes 0. */
  readonly significant: boolean
}

/** Mean per seed of each role's tallies, and of their total. */
export interface CostSummary {
  readonly agent: RoleTally
  readonly optimizer: RoleTally
  readonly evaluator: RoleTally
  readonly total: RoleTally
}

export interface SummaryRow {
  readonly topology: string
  readonly method: string
  readonly task: string
  /** Seeds, ascending. */
  readonly seeds: ReadonlyArray<number>
  readonly n: number
  /** Mean number of test items per seed. */
  readonly items: number
  /** Mean over seeds of the per-seed accuracy. */
  readonly accuracy: number
  /** Two-level bootstrap CI (seeds, then items within a seed). */
  readonly ci: Interval
  /** Half the width of `ci`. */
  readonly halfWidth: number
  /** Per-seed accuracy, in the order of `seeds`. */
  readonly perSeedAccuracy: ReadonlyArray<number>
  readonly cost: CostSummary
  /** Mean per seed of what the optimization alone used, all roles (zero for rows without one). */
  readonly optimizationCost: RoleTally
  /** Against the unoptimized MAS (absent for the seed method itself or when it has no cells here). */
  readonly vsSeed?: PairedComparison
  /** Against the best other non-seed, non-"ours" method on this task (absent when there is none). */
  readonly vsBest?: PairedComparison
}

/** The "Avg." column: mean over all tasks of the topology; absent when a method lacks a task. */
export interface AverageRow {
  readonly topology: string
  readonly method: string
  readonly tasks: ReadonlyArray<string>
  readonly accuracy: number
  /** Each task bootstrapped as in its row (independently), the draws averaged over tasks. */
  readonly ci: Interval
  readonly halfWidth: number
  /** Mean over tasks of the per-seed cost. */
  readonly cost: CostSummary
  /** Mean over tasks of the per-seed optimization cost. */
  readonly optimizationCost: RoleTally
}

export interface ResultsSummary {
  readonly seedMethod: string
  readonly ours: ReadonlyArray<string>
  readonly level: number
  /** In order of first appearance in the cells. */
  readonly topologies: ReadonlyArray<string>
  readonly tasks: Readonly<Record<string, ReadonlyArray<string>>>
  readonly methods: Readonly<Record<string, ReadonlyArray<string>>>
  readonly rows: ReadonlyArray<SummaryRow>
  readonly averages: ReadonlyArray<AverageRow>
  /** Invalid or unpairable cells that were skipped (always empty from a successful `summarizeCells` without `allowMismatches`). */
  readonly mismatches: ReadonlyArray<CellMismatch>
}

export const AVERAGE_COLUMN = "Avg."

export const findRow = (
  summary: ResultsSummary,
  topology: string,
  method: string,
  task: string
): SummaryRow | undefined =>
  summary.rows.find((r) => r.topology === topology && r.method === method && r.task === task)

export const findAverage = (
  summary: ResultsSummary,
  topology: string,
  method: string
): AverageRow | undefined => summary.averages.find((r) => r.topology === topology && r.method === method)

const key = (...parts: ReadonlyArray<string>): string => JSON.stringify(parts)

const pushUnique = (list: Array<string>, value: string) => {
  if (!list.includes(value)) list.push(value)
}

const meanTally = (tallies: ReadonlyArray<RoleTally>): RoleTally =>
  tallies.length === 0
    ? emptyTally
    : {
        calls: mean(tallies.map((t) => t.calls)),
        liveCalls: mean(tallies.map((t) => t.liveCalls)),
        cacheHits: mean(tallies.map((t) => t.cacheHits)),
        promptTokens: mean(tallies.map((t) => t.promptTokens)),
        completionTokens: mean(tallies.map((t) => t.completionTokens))
      }

const costOf = (budgets: ReadonlyArray<BudgetReport>): CostSummary => ({
  agent: meanTally(budgets.map((b) => b.agent)),
  optimizer: meanTally(budgets.map((b) => b.optimizer)),
  evaluator: meanTally(budgets.map((b) => b.evaluator)),
  total: meanTally(budgets.map(totalTally))
})

const meanCost = (costs: ReadonlyArray<CostSummary>): CostSummary => ({
  agent: meanTally(costs.map((c) => c.agent)),
  optimizer: meanTally(costs.map((c) => c.optimizer)),
  evaluator: meanTally(costs.map((c) => c.evaluator)),
  total: meanTally(costs.map((c) => c.total))
})

/** Problems with a single cell: misaligned scores, duplicate item ids, accuracy that disagrees. */
const cellProblems = (cell: CellResult, tolerance: number): Array<string> => {
  const problems: Array<string> = []
  if (cell.scores.length !== cell.testItemIds.length)
    problems.push(`${cell.scores.length} scores for ${cell.testItemIds.length} test item ids`)
  if (cell.testItemIds.length === 0) problems.push("no test items")
  const seen = new Set<string>()
  const duplicates = new Set<string>()
  for (const id of cell.testItemIds) (seen.has(id) ? duplicates : seen).add(id)
  if (duplicates.size > 0) problems.push(`duplicate test item ids: ${[...duplicates].slice(0, 5).join(", ")}`)
  if (cell.scores.some((s) => !Number.isFinite(s))) problems.push("a score is not a finite number")
  if (problems.length === 0 && Math.abs(cell.accuracy - mean(cell.scores)) > tolerance)
    problems.push(`accuracy ${cell.accuracy} is not the mean of its scores (${mean(cell.scores)})`)
  return problems
}

interface MatchedSeed {
  readonly seed: number
  readonly a: ReadonlyArray<number>
  readonly b: ReadonlyArray<number>
}

/** Pairs two methods' cells by seed and item id; anything that does not pair is a mismatch. */
const pairCells = (
  topology: string,
  task: string,
  method: string,
  against: string,
  aCells: ReadonlyArray<CellResult>,
  bCells: ReadonlyArray<CellResult>
): { readonly matched: Array<MatchedSeed>; readonly mismatches: Array<CellMismatch> } => {
  const matched: Array<MatchedSeed> = []
  const mismatches: Array<CellMismatch> = []
  const bySeedA = new Map(aCells.map((c) => [c.seed, c]))
  const bySeedB = new Map(bCells.map((c) => [c.seed, c]))
  const seeds = [...new Set([...bySeedA.keys(), ...bySeedB.keys()])].sort((x, y) => x - y)
  for (const seed of seeds) {
    const a = bySeedA.get(seed)
    const b = bySeedB.get(seed)
    const base = { topology, task, method, against, seed }
    if (a === undefined || b === undefined) {
      mismatches.push({
        ...base,
        reason: `no cell of ${JSON.stringify(a === undefined ? method : against)} with this seed`
      })
      continue
    }
    const bScore = new Map(b.testItemIds.map((id, i) => [id, b.scores[i]!]))
    const aIds = new Set(a.testItemIds)
    const onlyA = a.testItemIds.filter((id) => !bScore.has(id))
    const onlyB = b.testItemIds.filter((id) => !aIds.has(id))
    if (onlyA.length > 0 || onlyB.length > 0) {
      const show = (ids: ReadonlyArray<string>) =>
        ids
          .slice(0, 3)
          .map((id) => JSON.stringify(id))
          .join(", ") + (ids.length > 3 ? ", ..." : "")
      mismatches.push({
        ...base,
        reason:
          `test item ids differ: ${onlyA.length} only in ${method}` +
          (onlyA.length > 0 ? ` (${show(onlyA)})` : "") +
          `, ${onlyB.length} only in ${against}` +
          (onlyB.length > 0 ? ` (${show(onlyB)})` : "")
      })
      continue
    }
    matched.push({ seed, a: a.scores, b: a.testItemIds.map((id) => bScore.get(id)!) })
  }
  return { matched, mismatches }
}

interface Resolved {
  readonly seed: number
  readonly resamples: number
  readonly permutations: number
  readonly level: number
}

const compare = (
  matched: ReadonlyArray<MatchedSeed>,
  against: string,
  label: string,
  o: Resolved
): PairedComparison | undefined => {
  if (matched.length === 0) return undefined
  const a = matched.flatMap((m) => m.a)
  // Two-level (cluster) bootstrap of the paired differences: resample seeds, then items within a
  // seed. Pooling all (seed, item) pairs as if independent would ignore run-to-run variance, which
  // dominates when each seed optimizes its own prompts.
  const boot = seedsBootstrap(
    matched.map((m) => m.a.map((x, i) => x - m.b[i]!)),
    { seed: deriveSeed(o.seed, `bootstrap|${label}`), resamples: o.resamples, level: o.level }
  )
  const perm = pairedPermutationTest(
    matched.map((m) => mean(m.a)),
    matched.map((m) => mean(m.b)),
    { seed: deriveSeed(o.seed, `permutation|${label}`), permutations: o.permutations }
  )
  return {
    against,
    seeds: matched.map((m) => m.seed),
    pairs: a.length,
    diff: boot.mean,
    ci: boot.ci,
    pValue: perm.pValue,
    significant: boot.ci.low > 0 || boot.ci.high < 0
  }
}

/**
 * The summary without failing: invalid cells are dropped and every problem is listed in
 * `mismatches`. `summarizeCells` is the checked version.
 */
export const summarizeCellsLenient = (
  cells: ReadonlyArray<CellResult>,
  options: SummaryOptions = {}
): ResultsSummary => {
  const o: Resolved = {
    seed: options.seed ?? 0,
    resamples: options.resamples ?? 2000,
    permutations: options.permutations ?? 5000,
    level: options.level ?? 0.95
  }
  const seedMethod = options.seedMethod ?? "seed"
  const ours = options.ours ?? []
  const tolerance = options.accuracyTolerance ?? 1e-6
  const mismatches: Array<CellMismatch> = []

  const topologies: Array<string> = []
  const tasks: Record<string, Array<string>> = {}
  const methods: Record<string, Array<string>> = {}
  const groups = new Map<string, Array<CellResult>>()
  for (const cell of cells) {
    pushUnique(topologies, cell.topology)
    pushUnique((tasks[cell.topology] ??= []), cell.task)
    pushUnique((methods[cell.topology] ??= []), cell.method)
    const where = { topology: cell.topology, task: cell.task, method: cell.method, seed: cell.seed }
    const problems = cellProblems(cell, tolerance)
    if (problems.length > 0) {
      for (const reason of problems) mismatches.push({ ...where, reason })
      continue
    }
    const k = key(cell.topology, cell.task, cell.method)
    const group = groups.get(k) ?? []
    if (group.some((c) => c.seed === cell.seed)) {
      mismatches.push({ ...where, reason: "more than one cell with this seed" })
      continue
    }
    group.push(cell)
    groups.set(k, group)
  }
  for (const group of groups.values()) group.sort((a, b) => a.seed - b.seed)

  interface Base {
    readonly row: Omit<SummaryRow, "vsSeed" | "vsBest">
    readonly perSeed: ReadonlyArray<ReadonlyArray<number>>
  }
  const bases = new Map<string, Base>()
  for (const topology of topologies) {
    for (const task of tasks[topology] ?? []) {
      for (const method of methods[topology] ?? []) {
        const group = groups.get(key(topology, task, method))
        if (group === undefined || group.length === 0) continue
        const perSeed = group.map((c) => c.scores)
        const boot = seedsBootstrap(perSeed, {
          seed: deriveSeed(o.seed, `seeds|${key(topology, task, method)}`),
          resamples: o.resamples,
          level: o.level
        })
        bases.set(key(topology, task, method), {
          perSeed,
          row: {
            topology,
            method,
            task,
            seeds: group.map((c) => c.seed),
            n: group.length,
            items: mean(group.map((c) => c.scores.length)),
            accuracy: boot.mean,
            ci: boot.ci,
            halfWidth: (boot.ci.high - boot.ci.low) / 2,
            perSeedAccuracy: group.map((c) => mean(c.scores)),
            cost: costOf(group.map((c) => c.budget)),
            optimizationCost: meanTally(group.map((c) => totalTally(c.optimizationBudget ?? emptyReport())))
          }
        })
      }
    }
  }

  const rows: Array<SummaryRow> = []
  const averages: Array<AverageRow> = []
  for (const topology of topologies) {
    const topoTasks = tasks[topology] ?? []
    const topoMethods = methods[topology] ?? []
    for (const task of topoTasks) {
      const present = topoMethods.filter((m) => bases.has(key(topology, task, m)))
      for (const method of present) {
        const base = bases.get(key(topology, task, method))!
        const comparison = (against: string): PairedComparison | undefined => {
          const paired = pairCells(
            topology,
            task,
            method,
            against,
            groups.get(key(topology, task, method)) ?? [],
            groups.get(key(topology, task, against)) ?? []
          )
          mismatches.push(...paired.mismatches)
          return compare(paired.matched, against, key(topology, task, method, against), o)
        }
        const vsSeed =
          method !== seedMethod && bases.has(key(topology, task, seedMethod))
            ? comparison(seedMethod)
            : undefined
        let best: Base | undefined
        for (const other of present) {
          if (other === method || other === seedMethod || ours.includes(other)) continue
          const candidate = bases.get(key(topology, task, other))!
          // Ties go to the smaller method name, so the choice does not depend on the order of the cells.
          const better =
            best === undefined ||
            candidate.row.accuracy > best.row.accuracy ||
            (candidate.row.accuracy === best.row.accuracy && candidate.row.method < best.row.method)
          if (better) best = candidate
        }
        const vsBest = best === undefined ? undefined : comparison(best.row.method)
        rows.push({
          ...base.row,
          ...(vsSeed === undefined ? {} : { vsSeed }),
          ...(vsBest === undefined ? {} : { vsBest })
        })
      }
    }
    for (const method of topoMethods) {
      const perTask = topoTasks.map((task) => bases.get(key(topology, task, method)))
      if (perTask.length === 0 || perTask.some((b) => b === undefined)) continue
      const present = perTask as ReadonlyArray<Base>
      const draws = present.map((b) =>
        twoLevelDraws(
          b.perSeed,
          deriveSeed(o.seed, `average|${key(topology, b.row.task, method)}`),
          o.resamples
        )
      )
      const averaged = Array.from({ length: o.resamples }, (_, r) => mean(draws.map((d) => d[r]!)))
      const ci = percentileInterval(averaged, o.level)
      averages.push({
        topology,
        method,
        tasks: topoTasks,
        accuracy: mean(present.map((b) => b.row.accuracy)),
        ci,
        halfWidth: (ci.high - ci.low) / 2,
        cost: meanCost(present.map((b) => b.row.cost)),
        optimizationCost: meanTally(present.map((b) => b.row.optimizationCost))
      })
    }
  }
  // A pairing problem is met by every comparison of the two methods, in either direction; list it once.
  const seen = new Set<string>()
  const unique = mismatches.filter((m) => {
    const k =
      m.against === undefined
        ? JSON.stringify([m.topology, m.task, m.method, m.seed ?? null, m.reason])
        : JSON.stringify([m.topology, m.task, [m.method, m.against].sort(), m.seed ?? null])
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
  return { seedMethod, ours, level: o.level, topologies, tasks, methods, rows, averages, mismatches: unique }
}

/**
 * Summarizes finished cells per (topology, method, task): mean accuracy over seeds with a two-level
 * bootstrap CI, per-role cost per seed, the "Avg." over tasks, and paired comparisons against the
 * seed MAS and the best baseline. Fails with every invalid or unpairable cell listed, unless
 * `allowMismatches` is set.
 */
export const summarizeCells: (
  cells: ReadonlyArray<CellResult>,
  options?: SummaryOptions
) => Effect.Effect<ResultsSummary, CellMismatchError> = Effect.fn("summarizeCells")(function* (
  cells: ReadonlyArray<CellResult>,
  options: SummaryOptions = {}
) {
  const summary = summarizeCellsLenient(cells, options)
  if (summary.mismatches.length > 0 && options.allowMismatches !== true)
    return yield* Effect.fail(cellMismatchError(summary.mismatches))
  return summary
})
