import type { PromptSet } from "../PromptSet.ts"
import type { TaskItem } from "../Task.ts"
import type { TopologySpec } from "../Topology.ts"
import { type AgentProfile, difficulties, profileAccuracy, profileOf, shapeOf } from "./analytic.ts"
import { DIRECTIVES, type DirectiveId, directivesOf, directiveSentence } from "./directives.ts"
import { defaultSimParams, type SimParams } from "./model.ts"
import { addDirectives, removeDirectives } from "./optimizer.ts"

/**
 * Exhaustive search for the simulator's globally optimal prompt sets. Only directives with an
 * effect on accuracy are searched over (the others change nothing the scorer sees).
 */

export const SOLVER_RELEVANT: ReadonlyArray<DirectiveId> = [
  "step_by_step",
  "check_steps",
  "state_intermediate",
  "final_only",
  "answer_tags",
  "read_carefully",
  "order_of_operations",
  "quick"
]

export const REVIEWER_RELEVANT: ReadonlyArray<DirectiveId> = [
  "recompute",
  "change_only_if_error",
  "always_improve",
  "check_steps",
  "answer_tags",
  "quick"
]

/** Every directive the search varies (the others change nothing the scorer sees). */
const RELEVANT: ReadonlySet<DirectiveId> = new Set([...SOLVER_RELEVANT, ...REVIEWER_RELEVANT])

export const subsets = <A>(xs: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> =>
  Array.from({ length: 1 << xs.length }, (_, mask) => xs.filter((_, i) => (mask >> i) & 1))

export type DirectiveAssignment = Readonly<Record<string, ReadonlyArray<DirectiveId>>>

export interface SearchResult {
  readonly assignment: DirectiveAssignment
  readonly accuracy: number
  /** How many complete prompt sets were scored. */
  readonly evaluated: number
}

const withDirectives = (base: AgentProfile, ds: ReadonlyArray<DirectiveId>): AgentProfile => ({
  persona: base.persona,
  directives: new Set(ds)
})

const seedProfile = (spec: TopologySpec, id: string) =>
  profileOf((spec.nodes.find((n) => n.id === id) as { prompt: string }).prompt)

// Fewer directives win ties, then the earlier subset in enumeration order: the result is unique.
const better = (acc: number, size: number, best: { acc: number; size: number }) =>
  acc > best.acc + 1e-12 || (Math.abs(acc - best.acc) <= 1e-12 && size < best.size)

/**
 * Searches directive subsets of every agent. With one solver the search is over the full product
 * of subsets; with several, over assignments where the solvers share one subset, followed by rounds
 * of per-agent exhaustive search until no single agent's change improves (a fixed point).
 */
export const searchOptimum = (
  spec: TopologySpec,
  items: ReadonlyArray<TaskItem>,
  params: SimParams = defaultSimParams
): SearchResult => {
  const shape = shapeOf(spec)
  if (!shape) throw new Error(`searchOptimum: topology '${spec.name}' is not a solvers -> reviewer system`)
  const diffs = difficulties(items)
  const solverBases = shape.solvers.map((id) => seedProfile(spec, id))
  const reviewerBase = seedProfile(spec, shape.terminal)
  const solverSets = subsets(SOLVER_RELEVANT)
  const reviewerSets = subsets(REVIEWER_RELEVANT)
  let evaluated = 0
  const score = (ss: ReadonlyArray<ReadonlyArray<DirectiveId>>, rs: ReadonlyArray<DirectiveId>) => {
    evaluated++
    return profileAccuracy(
      solverBases.map((b, i) => withDirectives(b, ss[i]!)),
      withDirectives(reviewerBase, rs),
      diffs,
      params
    )
  }
  const size = (ss: ReadonlyArray<ReadonlyArray<DirectiveId>>, rs: ReadonlyArray<DirectiveId>) =>
    ss.reduce((n, s) => n + s.length, rs.length)

  let best = {
    acc: -1,
    size: Infinity,
    ss: [] as ReadonlyArray<ReadonlyArray<DirectiveId>>,
    rs: [] as ReadonlyArray<DirectiveId>
  }
  for (const s of solverSets)
    for (const rs of reviewerSets) {
      const ss = shape.solvers.map(() => s)
      const acc = score(ss, rs)
      if (better(acc, size(ss, rs), best)) best = { acc, size: size(ss, rs), ss, rs }
    }
  if (shape.solvers.length > 1) {
    for (let changed = true; changed;) {
      changed = false
      for (let i = 0; i <= shape.solvers.length; i++) {
        const candidates = i < shape.solvers.length ? solverSets : reviewerSets
        for (const c of candidates) {
          const ss = i < shape.solvers.length ? best.ss.map((s, j) => (j === i ? c : s)) : best.ss
          const rs = i < shape.solvers.length ? best.rs : c
          const acc = score(ss, rs)
          if (better(acc, size(ss, rs), best)) {
            best = { acc, size: size(ss, rs), ss, rs }
            changed = true
          }
        }
      }
    }
  }
  const assignment: Record<string, ReadonlyArray<DirectiveId>> = {}
  shape.solvers.forEach((id, i) => (assignment[id] = best.ss[i]!))
  assignment[shape.terminal] = best.rs
  return { assignment, accuracy: best.acc, evaluated }
}

/**
 * A topology's seed prompts rewritten to hold exactly the given directives among the searched ones
 * (other text, irrelevant directives included, is kept).
 */
export const promptsWith = (spec: TopologySpec, assignment: DirectiveAssignment): PromptSet => {
  const out: Record<string, string> = {}
  for (const node of spec.nodes) {
    if (node.kind !== "agent") continue
    const want = assignment[node.id] ?? []
    const have = directivesOf(node.prompt).filter((d) => RELEVANT.has(d))
    const removed = removeDirectives(
      node.prompt,
      have.filter((d) => !want.includes(d))
    )
    const order = DIRECTIVES.map((d) => d.id)
    const add = [...want].filter((d) => !have.includes(d)).sort((a, b) => order.indexOf(a) - order.indexOf(b))
    out[node.id] = addDirectives(
      removed,
      add.map((d) => directiveSentence(d))
    )
  }
  return out
}

/** The relevant directives of each agent of a prompt set. */
export const assignmentOf = (spec: TopologySpec, prompts: PromptSet): DirectiveAssignment => {
  const out: Record<string, ReadonlyArray<DirectiveId>> = {}
  for (const node of spec.nodes)
    if (node.kind === "agent") {
      const text = (prompts[node.id] ?? node.prompt).replace(/\{question\}|\{context\}/g, " ")
      out[node.id] = directivesOf(text).filter((d) => RELEVANT.has(d))
    }
  return out
}

/** Directives to add or remove, summed over agents, to reach an assignment (0 = at the optimum). */
export const distanceBetween = (a: DirectiveAssignment, b: DirectiveAssignment): number =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].reduce((n, id) => {
    const x = new Set(a[id] ?? [])
    const y = new Set(b[id] ?? [])
    return n + [...x].filter((d) => !y.has(d)).length + [...y].filter((d) => !x.has(d)).length
  }, 0)
