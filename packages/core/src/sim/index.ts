export * from "./agent.ts"
export * from "./analytic.ts"
export * from "./client.ts"
export * from "./directives.ts"
export * from "./items.ts"
export * from "./judge.ts"
export * from "./model.ts"
export * from "./optimizer.ts"
export * from "./optimum.ts"
export * from "./search.ts"
export * from "./topologies.ts"

import type { PromptSet } from "../PromptSet.ts"
import { assignmentOf, distanceBetween, promptsWith } from "./search.ts"
import { SIM_OPTIMUM } from "./optimum.ts"
import { SIM_TOPOLOGIES } from "./topologies.ts"

type SimTopologyName = keyof typeof SIM_OPTIMUM

/** The documented optimum of a bundled topology as a prompt set. */
export const optimumPrompts = (name: SimTopologyName): PromptSet =>
  promptsWith(SIM_TOPOLOGIES[name]!, SIM_OPTIMUM[name].assignment)

/** How many directive edits separate a prompt set from the documented optimum (0 = at it). */
export const distanceToOptimum = (name: SimTopologyName, prompts: PromptSet): number =>
  distanceBetween(assignmentOf(SIM_TOPOLOGIES[name]!, prompts), SIM_OPTIMUM[name].assignment)
