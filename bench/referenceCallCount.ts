import { descendants, type OptimizerConfig, schedule, type ScheduleEntry, type Topology } from "@maspo/core"

/** LLM calls per role. */
export interface RoleCalls {
  readonly agent: number
  readonly optimizer: number
  readonly evaluator: number
}

export interface ReferenceEntryCount {
  readonly entry: ScheduleEntry
  /** Beam members the entry works from (parents of a step; members re-scored by a refresh + 1). */
  readonly parents: number
  readonly calls: RoleCalls
}

export interface ReferenceCallCount {
  /** One count per schedule entry, in the order the search runs them. */
  readonly entries: ReadonlyArray<ReferenceEntryCount>
  /** The first step of the run (one parent: the seed prompts). */
  readonly firstStep: RoleCalls
  /** A step with a full beam (K parents), on the first agent. */
  readonly fullStep: RoleCalls
  readonly total: RoleCalls
}

const zero: RoleCalls = { agent: 0, optimizer: 0, evaluator: 0 }
export const addCalls = (a: RoleCalls, b: RoleCalls): RoleCalls => ({
  agent: a.agent + b.agent,
  optimizer: a.optimizer + b.optimizer,
  evaluator: a.evaluator + b.evaluator
})

/** LLM calls of one pass of these nodes on one item: answer + compression per agent, none for aggregators. */
const passCalls = (topology: Topology, ids: Iterable<string>): number => {
  let n = 0
  for (const id of ids) if (topology.nodes.get(id)?.kind === "agent") n += 2
  return n
}

/**
 * The agents whose outputs the reference compares at the lookahead level: the whole descendant chain
 * (every depth), the terminal dropped when other descendants exist (the global level covers it).
 */
const chainComparisons = (topology: Topology, agentId: string): number => {
  const all = [...descendants(topology, agentId)]
  const nonTerminal = all.filter((id) => id !== topology.terminal)
  return nonTerminal.length > 0 ? nonTerminal.length : all.length
}

/**
 * The LLM calls the paper's released implementation makes for the search `config` on `topology`,
 * derived from its algorithm (the upper bound maspo's call-saving rules are measured against):
 *
 * - Schedule: the same as maspo's (`schedule`): D rounds over the agents in topological order, T steps
 *   per visit, a beam refresh opening every revisit when `beamRefresh` is on.
 * - Beam: one member (the seed prompt) before an agent's first step; after a step with P parents it
 *   holds min(K, P * K_sub) members. Duplicates are kept (a rejected child stands in as its parent and
 *   is a parent again in the next step), so every member is expanded and re-evaluated.
 * - Step with P parents: K_sub optimizer calls per parent. Every child evaluation re-runs its parent's
 *   whole system on the batch (no sharing between the children of one parent, nor between parents) and
 *   runs the candidate on the changed agent and its descendants (upstream outputs from that parent run).
 * - Comparisons per child and batch item: the changed agent (local, if weighted), every agent of its
 *   descendant chain (lookahead, if weighted; the terminal only when it is the sole descendant) and the
 *   final answer (global, if weighted); the terminal agent is judged by the global comparison alone.
 *   Each comparison is asked once, or twice with `debiasPosition`. No memo, no skip of identical
 *   outputs.
 * - Refresh: each beam member but the best is re-scored against the current best like a child (the
 *   best system re-run per member), duplicates of the best included.
 *
 * Assumes every refinement yields a valid child (rejected proposals only lower real counts). Pure.
 */
export const referenceCallCount = (config: OptimizerConfig, topology: Topology): ReferenceCallCount => {
  const everyone = passCalls(topology, topology.order)
  const beamSize = new Map<string, number>(topology.agentIds.map((id) => [id, 1]))
  const debias = config.judgePosition === "both-orders" ? 2 : 1

  const perCandidate = (agentId: string): RoleCalls => {
    const chain = passCalls(topology, [agentId, ...descendants(topology, agentId)])
    const w = config.weights
    const comparisons =
      agentId === topology.terminal
        ? 1
        : (w.local > 0 ? 1 : 0) +
          (w.lookahead > 0 ? chainComparisons(topology, agentId) : 0) +
          (w.global > 0 ? 1 : 0)
    return {
      agent: config.batchSize * (everyone + chain),
      optimizer: 0,
      evaluator: config.batchSize * comparisons * debias
    }
  }
  const times = (n: number, c: RoleCalls): RoleCalls => ({
    agent: n * c.agent,
    optimizer: n * c.optimizer,
    evaluator: n * c.evaluator
  })

  const entries = schedule(topology, config).map((entry): ReferenceEntryCount => {
    const parents = beamSize.get(entry.agentId)!
    if (entry.kind === "refresh") {
      return { entry, parents, calls: times(parents - 1, perCandidate(entry.agentId)) }
    }
    const children = parents * config.childrenPerParent
    beamSize.set(entry.agentId, Math.min(config.beamWidth, children))
    return {
      entry,
      parents,
      calls: { ...times(children, perCandidate(entry.agentId)), optimizer: children }
    }
  })
  const first = topology.agentIds[0]
  const full = config.beamWidth
  return {
    entries,
    firstStep: entries.find((e) => e.entry.kind === "step")?.calls ?? zero,
    fullStep:
      first === undefined
        ? zero
        : {
            ...times(full * config.childrenPerParent, perCandidate(first)),
            optimizer: full * config.childrenPerParent
          },
    total: entries.reduce((acc, e) => addCalls(acc, e.calls), zero)
  }
}
