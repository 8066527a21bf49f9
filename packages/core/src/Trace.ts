import { Schema } from "effect"
import { Role } from "./Role.ts"

export const CallRecord = Schema.Struct({
  role: Role,
  purpose: Schema.Literals(["answer", "compress"]),
  sampleIndex: Schema.Number,
  promptTokens: Schema.Number,
  completionTokens: Schema.Number,
  cached: Schema.Boolean
})
export type CallRecord = typeof CallRecord.Type

/** What one node did on one question. */
export const AgentTrace = Schema.Struct({
  agentId: Schema.String,
  kind: Schema.Literals(["agent", "aggregator"]),
  question: Schema.String,
  /** The predecessors' compressed outputs as the agent received them. */
  context: Schema.String,
  /** The prompt template used (empty for aggregators). */
  prompt: Schema.String,
  rawOutput: Schema.String,
  compressedOutput: Schema.String,
  calls: Schema.Array(CallRecord)
})
export type AgentTrace = typeof AgentTrace.Type

/** One question through the whole system. */
export const Trace = Schema.Struct({
  itemId: Schema.String,
  question: Schema.String,
  /** In topological order. */
  agents: Schema.Array(AgentTrace),
  terminal: Schema.String,
  finalOutput: Schema.String,
  /** The terminal agent's extracted answer, absent when none could be extracted. */
  answer: Schema.optional(Schema.String)
})
export type Trace = typeof Trace.Type

export const agentTrace = (trace: Trace, agentId: string): AgentTrace | undefined =>
  trace.agents.find((a) => a.agentId === agentId)
