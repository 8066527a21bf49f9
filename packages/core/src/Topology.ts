import { Effect, Schema } from "effect"
import { describeSlotProblems, slotProblems } from "./Slots.ts"

export const AgentNode = Schema.Struct({
  kind: Schema.Literal("agent"),
  id: Schema.String,
  /** What the agent is for, shown to the optimizer and judges. */
  role: Schema.String,
  /** Seed prompt template, with {question} and {context}. */
  prompt: Schema.String,
  /** Sampling temperature for this agent's answer call (the role default when absent). */
  temperature: Schema.optional(Schema.Number),
  /**
   * Offset added to the run's sample index for this agent, so several agents with the same prompt
   * (self-consistency samples, debaters) draw distinct samples instead of one cached answer.
   */
  sampleOffset: Schema.optional(Schema.Int)
})
export type AgentNode = typeof AgentNode.Type

/** A non-LLM node: combines its predecessors' answers. */
export const AggregatorNode = Schema.Struct({
  kind: Schema.Literal("aggregator"),
  id: Schema.String,
  method: Schema.Literal("majority")
})
export type AggregatorNode = typeof AggregatorNode.Type

export const TopologyNode = Schema.Union([AgentNode, AggregatorNode])
export type TopologyNode = typeof TopologyNode.Type

export const Edge = Schema.Struct({ from: Schema.String, to: Schema.String })
export type Edge = typeof Edge.Type

export const TopologySpec = Schema.Struct({
  name: Schema.String,
  nodes: Schema.Array(TopologyNode),
  edges: Schema.Array(Edge),
  terminal: Schema.String
})
export type TopologySpec = typeof TopologySpec.Type

export class TopologyError extends Schema.TaggedError<TopologyError>()("TopologyError", {
  topology: Schema.String,
  message: Schema.String
}) {}

/** A validated DAG with its derived structure precomputed. */
export interface Topology {
  readonly spec: TopologySpec
  readonly name: string
  readonly nodes: ReadonlyMap<string, TopologyNode>
  /** Node ids in a topological order (stable: ties keep declaration order). */
  readonly order: ReadonlyArray<string>
  /** Levels: each node sits one level below its deepest predecessor; a level runs concurrently. */
  readonly levels: ReadonlyArray<ReadonlyArray<string>>
  readonly predecessors: ReadonlyMap<string, ReadonlyArray<string>>
  readonly successors: ReadonlyMap<string, ReadonlyArray<string>>
  readonly terminal: string
  /** LLM agents in topological order (the optimizer visits them in this order). */
  readonly agentIds: ReadonlyArray<string>
}

export const descendants = (topology: Topology, id: string): Set<string> => {
  const out = new Set<string>()
  const stack = [...(topology.successors.get(id) ?? [])]
  while (stack.length > 0) {
    const n = stack.pop()!
    if (out.has(n)) continue
    out.add(n)
    stack.push(...(topology.successors.get(n) ?? []))
  }
  return out
}

export const agentNode = (topology: Topology, id: string): AgentNode | undefined => {
  const n = topology.nodes.get(id)
  return n?.kind === "agent" ? n : undefined
}

/** Pure validation: the error message names the offending node, edge or slot. */
export const validateTopology = (spec: TopologySpec): Topology | string => {
  const nodes = new Map<string, TopologyNode>()
  for (const node of spec.nodes) {
    if (node.id.trim() === "") return "a node has an empty id"
    if (nodes.has(node.id)) return `duplicate node id '${node.id}'`
    nodes.set(node.id, node)
    if (node.kind === "agent") {
      const problem = describeSlotProblems(slotProblems(node.prompt))
      if (problem) return `prompt of agent '${node.id}': ${problem}`
    }
  }
  const predecessors = new Map<string, Array<string>>([...nodes.keys()].map((k) => [k, []]))
  const successors = new Map<string, Array<string>>([...nodes.keys()].map((k) => [k, []]))
  for (const e of spec.edges) {
    if (!nodes.has(e.from)) return `edge ${e.from} -> ${e.to}: unknown agent '${e.from}'`
    if (!nodes.has(e.to)) return `edge ${e.from} -> ${e.to}: unknown agent '${e.to}'`
    if (e.from === e.to) return `cycle: ${e.from} -> ${e.to}`
    if (successors.get(e.from)!.includes(e.to)) return `duplicate edge ${e.from} -> ${e.to}`
    successors.get(e.from)!.push(e.to)
    predecessors.get(e.to)!.push(e.from)
  }
  if (!nodes.has(spec.terminal)) return `terminal '${spec.terminal}' is not a node`
  if (successors.get(spec.terminal)!.length > 0) return `terminal '${spec.terminal}' has successors`

  // Kahn's algorithm in declaration order, so the order is stable and readable.
  const indegree = new Map([...predecessors].map(([k, v]) => [k, v.length]))
  const order: Array<string> = []
  const level = new Map<string, number>()
  const ready = spec.nodes.map((n) => n.id).filter((id) => indegree.get(id) === 0)
  while (ready.length > 0) {
    const id = ready.shift()!
    order.push(id)
    const lv = Math.max(-1, ...predecessors.get(id)!.map((p) => level.get(p)!)) + 1
    level.set(id, lv)
    for (const s of successors.get(id)!) {
      indegree.set(s, indegree.get(s)! - 1)
      if (indegree.get(s) === 0) ready.push(s)
    }
  }
  if (order.length < nodes.size) {
    const cyc = findCycle(
      [...nodes.keys()].filter((id) => !order.includes(id)),
      successors
    )
    return `cycle: ${cyc.join(" -> ")}`
  }
  for (const [id, node] of nodes) {
    if (node.kind === "aggregator" && predecessors.get(id)!.length === 0)
      return `aggregator '${id}' has no inputs`
  }
  const reachesTerminal = new Set([spec.terminal])
  for (const id of [...order].reverse()) {
    if (successors.get(id)!.some((s) => reachesTerminal.has(s))) reachesTerminal.add(id)
  }
  const dangling = order.find((id) => !reachesTerminal.has(id))
  if (dangling) return `node '${dangling}' does not lead to the terminal '${spec.terminal}'`

  const depth = Math.max(...level.values()) + 1
  const levels = Array.from({ length: depth }, (_, d) => order.filter((id) => level.get(id) === d))
  return {
    spec,
    name: spec.name,
    nodes,
    order,
    levels,
    predecessors,
    successors,
    terminal: spec.terminal,
    agentIds: order.filter((id) => nodes.get(id)!.kind === "agent")
  }
}

const findCycle = (
  candidates: ReadonlyArray<string>,
  successors: ReadonlyMap<string, ReadonlyArray<string>>
) => {
  const inSet = new Set(candidates)
  // Every remaining node has a remaining predecessor, so walking successors inside the set must loop.
  const path: Array<string> = []
  const seen = new Map<string, number>()
  let cur = candidates[0]!
  while (!seen.has(cur)) {
    seen.set(cur, path.length)
    path.push(cur)
    cur = (successors.get(cur) ?? []).find((s) => inSet.has(s)) ?? cur
  }
  return [...path.slice(seen.get(cur)!), cur]
}

export const decodeTopology = Effect.fn("decodeTopology")(function* (input: unknown, source = "topology") {
  const spec = yield* Schema.decodeUnknownEffect(TopologySpec)(input).pipe(
    Effect.mapError((e) => new TopologyError({ topology: source, message: e.message }))
  )
  const result = validateTopology(spec)
  if (typeof result === "string") return yield* new TopologyError({ topology: spec.name, message: result })
  return result
})

export const makeTopology = (spec: TopologySpec): Effect.Effect<Topology, TopologyError> => {
  const result = validateTopology(spec)
  return typeof result === "string"
    ? Effect.fail(new TopologyError({ topology: spec.name, message: result }))
    : Effect.succeed(result)
}
