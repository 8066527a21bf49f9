import type { PromptSet } from "../PromptSet.ts"
import type { TaskItem } from "../Task.ts"
import type { TopologySpec } from "../Topology.ts"
import { type DirectiveId, directivesOf } from "./directives.ts"
import { difficulty, parseProblem } from "./items.ts"
import {
  defaultSimParams,
  detectProb,
  extractionProb,
  falseChangeProb,
  isBare,
  type Persona,
  personaOf,
  showsValues,
  type SimParams,
  solveProb
} from "./model.ts"

/**
 * The exact expected accuracy of a prompt set on the simulator: the expectation, over the
 * simulator's draws, of what the executor would score. It covers the bundled shape (source agents
 * that solve, feeding one terminal agent that reviews) and needs no LLM call, which is what makes
 * an exhaustive search over directive subsets possible.
 */

export interface AgentProfile {
  readonly persona: Persona
  readonly directives: ReadonlySet<DirectiveId>
}

/** The prompt's instructions: the template without its slots. */
export const profileOf = (prompt: string): AgentProfile => {
  const instructions = prompt.replace(/\{question\}|\{context\}/g, " ")
  return { persona: personaOf(instructions), directives: new Set(directivesOf(instructions)) }
}

export interface Shape {
  readonly solvers: ReadonlyArray<string>
  readonly terminal: string
}

/** Source agents in node order and the terminal agent, or undefined for other shapes. */
export const shapeOf = (spec: TopologySpec): Shape | undefined => {
  const agents = spec.nodes.filter((n) => n.kind === "agent").map((n) => n.id)
  const solvers = agents.filter((id) => id !== spec.terminal)
  const ok =
    spec.nodes.every((n) => n.kind === "agent") &&
    solvers.every((s) => spec.edges.some((e) => e.from === s && e.to === spec.terminal)) &&
    spec.edges.every((e) => e.to === spec.terminal && solvers.includes(e.from))
  return ok && solvers.length > 0 ? { solvers, terminal: spec.terminal } : undefined
}

/** P(the terminal agent's extracted answer is right) on an item of a given difficulty. */
export const itemAccuracy = (
  solvers: ReadonlyArray<AgentProfile>,
  reviewer: AgentProfile,
  diff: number,
  params: SimParams
): number => {
  const ps = solvers.map(
    (s) => solveProb(s.persona, s.directives, diff) * extractionProb(s.directives, params)
  )
  // Wrong answers of different agents never coincide, so the reviewer starts from the right answer
  // when two or more agents are right, or when only one is and it comes first (ties go to the earliest).
  let pm = 0
  const n = ps.length
  for (let mask = 0; mask < 1 << n; mask++) {
    let pr = 1
    let rights = 0
    for (let i = 0; i < n; i++) {
      const right = (mask >> i) & 1
      pr *= right ? ps[i]! : 1 - ps[i]!
      rights += right
    }
    if (rights >= 2 || (rights === 1 && (n === 1 || (mask & 1) === 1))) pm += pr
  }
  const visible = solvers.some((s) => showsValues(s.directives))
  const allBare = solvers.every((s) => isBare(s.directives))
  const fc = falseChangeProb(reviewer.directives, allBare)
  const fix = detectProb(reviewer.directives, visible, params) * params.fixRate
  return (pm * (1 - fc) + (1 - pm) * fix) * extractionProb(reviewer.directives, params)
}

const difficulties = (items: ReadonlyArray<TaskItem>): ReadonlyArray<number> =>
  items.map((item) => {
    const p = parseProblem(item.question)
    if (!p) throw new Error(`not a simulator item: ${item.id}`)
    return difficulty(p)
  })

/** Mean exact accuracy over items for profiles (the search's inner loop). */
export const profileAccuracy = (
  solvers: ReadonlyArray<AgentProfile>,
  reviewer: AgentProfile,
  diffs: ReadonlyArray<number>,
  params: SimParams = defaultSimParams
): number => diffs.reduce((s, d) => s + itemAccuracy(solvers, reviewer, d, params), 0) / diffs.length

/** The expected accuracy of a prompt set on the given simulator items. */
export const expectedAccuracy = (
  spec: TopologySpec,
  prompts: PromptSet,
  items: ReadonlyArray<TaskItem>,
  params: SimParams = defaultSimParams
): number => {
  const shape = shapeOf(spec)
  if (!shape) throw new Error(`expectedAccuracy: topology '${spec.name}' is not a solvers -> reviewer system`)
  const prompt = (id: string) =>
    prompts[id] ?? (spec.nodes.find((n) => n.id === id) as { prompt: string }).prompt
  return profileAccuracy(
    shape.solvers.map((id) => profileOf(prompt(id))),
    profileOf(prompt(shape.terminal)),
    difficulties(items),
    params
  )
}

export { difficulties }
