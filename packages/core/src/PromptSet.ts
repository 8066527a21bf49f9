import { Effect, Schema } from "effect"
import { describeSlotProblems, slotProblems } from "./Slots.ts"
import { type Topology, TopologyError } from "./Topology.ts"

/** Agent id -> prompt template. Agents not listed keep their topology's seed prompt. */
export const PromptSet = Schema.Record(Schema.String, Schema.String)
export type PromptSet = typeof PromptSet.Type

/** The seed prompts of a topology, as a full PromptSet. */
export const seedPrompts = (topology: Topology): PromptSet =>
  Object.fromEntries(
    topology.agentIds.map((id) => [id, (topology.nodes.get(id) as { prompt: string }).prompt])
  )

/** A complete, validated PromptSet for the topology: unknown agents and bad slots are errors. */
export const resolvePrompts = (
  topology: Topology,
  prompts: PromptSet
): Effect.Effect<PromptSet, TopologyError> => {
  for (const [id, prompt] of Object.entries(prompts)) {
    if (!topology.agentIds.includes(id)) {
      return Effect.fail(
        new TopologyError({ topology: topology.name, message: `prompt set names unknown agent '${id}'` })
      )
    }
    const problem = describeSlotProblems(slotProblems(prompt))
    if (problem) {
      return Effect.fail(
        new TopologyError({ topology: topology.name, message: `prompt of agent '${id}': ${problem}` })
      )
    }
  }
  return Effect.succeed({ ...seedPrompts(topology), ...prompts })
}
