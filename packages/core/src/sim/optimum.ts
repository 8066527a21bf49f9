import type { DirectiveAssignment } from "./search.ts"

/**
 * The documented global optimum of each bundled topology on the fixed test set (500 items,
 * `arithTestItems()`), with default parameters, as found by `searchOptimum` (run
 * `npx tsx scripts/sim-optimum.ts` to recompute; a test checks these values still hold).
 */
export interface DocumentedOptimum {
  readonly assignment: DirectiveAssignment
  /** Exact expected accuracy of the optimum and of the seed prompts. */
  readonly accuracy: number
  readonly seedAccuracy: number
}

export const SIM_OPTIMUM: Readonly<Record<"sequential" | "hierarchical", DocumentedOptimum>> = {
  sequential: {
    assignment: {
      solver: [
        "step_by_step",
        "check_steps",
        "state_intermediate",
        "answer_tags",
        "read_carefully",
        "order_of_operations"
      ],
      reviewer: ["recompute", "change_only_if_error", "check_steps", "answer_tags"]
    },
    accuracy: 0.9454899306487178,
    seedAccuracy: 0.44655655123104177
  },
  hierarchical: {
    assignment: {
      math_agent: ["step_by_step", "check_steps", "answer_tags", "read_carefully", "order_of_operations"],
      science_agent: ["step_by_step", "check_steps", "answer_tags", "read_carefully", "order_of_operations"],
      code_agent: [
        "step_by_step",
        "check_steps",
        "state_intermediate",
        "answer_tags",
        "read_carefully",
        "order_of_operations"
      ],
      summarizer: ["recompute", "change_only_if_error", "check_steps", "answer_tags"]
    },
    accuracy: 0.9593655123070681,
    seedAccuracy: 0.4913858787957124
  }
}
