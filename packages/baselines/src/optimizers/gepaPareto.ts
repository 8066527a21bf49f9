import { descendants, type PromptSet, SeededRng, type TaskItem, type Topology } from "@maspo/core"

/**
 * Pure helpers of the GEPA-style optimizer: the Pareto frontier over per-item validation scores,
 * frequency-weighted parent selection, lineage and the system-aware merge of disjoint module changes.
 * Candidates are numbered by their position in the candidate pool (0 is the seed prompt set).
 */

/** `a` Pareto-dominates `b`: at least as good on every item and strictly better on one. */
export const dominates = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => {
  let strictly = false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x < y) return false
    if (x > y) strictly = true
  }
  return strictly
}

export interface Frontier {
  /** Per validation item, the non-dominated candidates with the best score on it (ascending ids). */
  readonly fronts: ReadonlyArray<ReadonlyArray<number>>
  /** Candidates on at least one front and dominated by no candidate (ascending ids). */
  readonly members: ReadonlyArray<number>
  /** Per member, the number of items on whose front it is (its selection weight). */
  readonly counts: ReadonlyArray<number>
}

/**
 * The Pareto frontier of candidates given `scores[candidate][item]` (all rows of equal length): for
 * each item the candidates with the best score on it, without candidates another one dominates.
 * Every item keeps a non-empty front (a dominating candidate is at least as good on every item).
 * With no items every non-dominated candidate is a member with weight 0.
 */
export const paretoFrontier = (scores: ReadonlyArray<ReadonlyArray<number>>): Frontier => {
  const n = scores.length
  const items = n === 0 ? 0 : scores[0]!.length
  const dominated = scores.map((row, c) => scores.some((other, d) => d !== c && dominates(other, row)))
  const fronts: Array<Array<number>> = []
  for (let i = 0; i < items; i++) {
    let best = -Infinity
    for (const row of scores) best = Math.max(best, row[i]!)
    const front: Array<number> = []
    scores.forEach((row, c) => {
      if (row[i] === best && !dominated[c]) front.push(c)
    })
    fronts.push(front)
  }
  const counts = new Map<number, number>()
  for (const front of fronts) for (const c of front) counts.set(c, (counts.get(c) ?? 0) + 1)
  const members =
    items === 0
      ? scores.map((_, c) => c).filter((c) => !dominated[c])
      : [...counts.keys()].sort((a, b) => a - b)
  return { fronts, members, counts: members.map((m) => counts.get(m) ?? 0) }
}

/**
 * A member of the frontier chosen with probability proportional to its weight, from a uniform `u`
 * in [0, 1) (members in ascending order; with all weights 0, uniformly). -1 for an empty frontier.
 */
export const selectParent = (frontier: Frontier, u: number): number => {
  const { members, counts } = frontier
  if (members.length === 0) return -1
  const total = counts.reduce((a, b) => a + b, 0)
  if (total === 0) return members[Math.min(members.length - 1, Math.floor(u * members.length))]!
  let target = u * total
  for (let k = 0; k < members.length; k++) {
    target -= counts[k]!
    if (target < 0) return members[k]!
  }
  return members[members.length - 1]!
}

/** What the merge needs to know about a candidate: its prompts and the candidates it came from. */
export interface Lineage {
  readonly prompts: PromptSet
  readonly parents: ReadonlyArray<number>
}

/** All strict ancestors of candidate `id` (parents, their parents, ...). */
export const ancestors = (candidates: ReadonlyArray<Lineage>, id: number): Set<number> => {
  const out = new Set<number>()
  const stack = [...(candidates[id]?.parents ?? [])]
  while (stack.length > 0) {
    const p = stack.pop()!
    if (out.has(p)) continue
    out.add(p)
    stack.push(...(candidates[p]?.parents ?? []))
  }
  return out
}

const moduleIds = (...sets: ReadonlyArray<PromptSet>): Array<string> => [
  ...new Set(sets.flatMap((s) => Object.keys(s)))
]

/** The modules (agents) whose prompt differs between two prompt sets, in first-seen key order. */
export const changedModules = (from: PromptSet, to: PromptSet): Array<string> =>
  moduleIds(from, to).filter((m) => from[m] !== to[m])

export const samePrompts = (a: PromptSet, b: PromptSet): boolean => changedModules(a, b).length === 0

/**
 * The system-aware merge: each module from the descendant that changed it relative to the common
 * ancestor (unchanged modules keep the ancestor's prompt). Undefined when both descendants changed
 * the same module to different prompts (the changes are not disjoint).
 */
export const mergeDisjoint = (ancestor: PromptSet, a: PromptSet, b: PromptSet): PromptSet | undefined => {
  const out: Record<string, string> = {}
  for (const m of moduleIds(ancestor, a, b)) {
    const changedA = a[m] !== ancestor[m]
    const changedB = b[m] !== ancestor[m]
    if (changedA && changedB && a[m] !== b[m]) return undefined
    const prompt = changedA ? a[m] : changedB ? b[m] : ancestor[m]
    if (prompt !== undefined) out[m] = prompt
  }
  return out
}

export interface MergePlan {
  readonly a: number
  readonly b: number
  readonly ancestor: number
  readonly prompts: PromptSet
}

export const mergeKey = (plan: Pick<MergePlan, "a" | "b" | "ancestor">): string =>
  `${plan.a}+${plan.b}@${plan.ancestor}`

/**
 * Every merge worth trying among frontier members: pairs (a < b) where neither descends from the
 * other, with the most recent common ancestor (highest id) whose changes from `a` and `b` are
 * disjoint and both non-empty, whose merged set is no existing candidate, and whose key (`mergeKey`)
 * was not tried. At most one plan per pair, in ascending (a, b) order.
 */
export const mergeCandidates = (
  candidates: ReadonlyArray<Lineage>,
  members: ReadonlyArray<number>,
  tried: ReadonlySet<string>
): Array<MergePlan> => {
  const sorted = [...members].sort((x, y) => x - y)
  const plans: Array<MergePlan> = []
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i]!
      const b = sorted[j]!
      const ancA = ancestors(candidates, a)
      const ancB = ancestors(candidates, b)
      if (ancA.has(b) || ancB.has(a)) continue
      const common = [...ancA].filter((x) => ancB.has(x)).sort((x, y) => y - x)
      for (const ancestor of common) {
        if (tried.has(mergeKey({ a, b, ancestor }))) continue
        const base = candidates[ancestor]!.prompts
        const pa = candidates[a]!.prompts
        const pb = candidates[b]!.prompts
        if (changedModules(base, pa).length === 0 || changedModules(base, pb).length === 0) continue
        const merged = mergeDisjoint(base, pa, pb)
        if (!merged || candidates.some((c) => samePrompts(c.prompts, merged))) continue
        plans.push({ a, b, ancestor, prompts: merged })
        break
      }
    }
  }
  return plans
}

/**
 * Where a system run with `to` can start from a run with `from`: "none" when the prompt sets are
 * equal, the agent to re-run from (it and its descendants) when every changed agent is it or one of
 * its descendants, else "full" (run the whole system).
 */
export const rerunRoot = (topology: Topology, from: PromptSet, to: PromptSet): string => {
  const changed = new Set(topology.agentIds.filter((id) => from[id] !== to[id]))
  if (changed.size === 0) return "none"
  for (const id of topology.agentIds) {
    if (!changed.has(id)) continue
    const covered = descendants(topology, id).add(id)
    return [...changed].every((c) => covered.has(c)) ? id : "full"
  }
  return "full"
}

/**
 * The fixed Pareto validation set (`valSize` pool items drawn with a seeded RNG) and the rest of the
 * pool, from which minibatches are drawn. Both keep the pool's order.
 */
export const splitPool = (
  pool: ReadonlyArray<TaskItem>,
  valSize: number,
  seed: number
): { readonly val: Array<TaskItem>; readonly feedback: Array<TaskItem> } => {
  const chosen = new Set(new SeededRng(seed).sample(pool, Math.max(0, valSize)).map((i) => i.id))
  return { val: pool.filter((i) => chosen.has(i.id)), feedback: pool.filter((i) => !chosen.has(i.id)) }
}
