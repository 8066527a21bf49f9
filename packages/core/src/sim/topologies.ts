import type { TopologySpec } from "../Topology.ts"

/**
 * The simulator's two bundled systems. Seed prompts state only the answer format; everything else
 * is left for the optimizer to find (docs/simulator.md lists the optimum).
 */

const FORMAT = "Put the final answer in <answer></answer> tags."

const agent = (id: string, role: string, prompt: string) => ({ kind: "agent" as const, id, role, prompt })

export const simSequential: TopologySpec = {
  name: "sequential",
  nodes: [
    agent(
      "solver",
      "Solves the arithmetic problem from scratch",
      `You are the solver in a two-agent team. Solve the arithmetic problem below. ${FORMAT}\n\n` +
        `Problem:\n{question}\n\n{context}`
    ),
    agent(
      "reviewer",
      "Reviews the solver's summarised answer and gives the final answer",
      `You are the reviewer in a two-agent team. Read the problem and the summary of the solver's answer, ` +
        `then give the final answer. ${FORMAT}\n\nProblem:\n{question}\n\nSolver's summary:\n{context}`
    )
  ],
  edges: [{ from: "solver", to: "reviewer" }],
  terminal: "reviewer"
}

const expert = (id: string, field: string) =>
  agent(
    id,
    `Answers from the point of view of ${field}`,
    `You are an expert in ${field}. Solve the problem below with the methods of your field. ${FORMAT}\n\n` +
      `Problem:\n{question}\n\n{context}`
  )

export const simHierarchical: TopologySpec = {
  name: "hierarchical",
  nodes: [
    expert("math_agent", "mathematics"),
    expert("science_agent", "the natural sciences"),
    expert("code_agent", "programming and algorithms"),
    agent(
      "summarizer",
      "Combines the experts' answers into the final answer",
      `You lead a team of three experts who each answered the problem below. Weigh their answers and ` +
        `give the final answer. ${FORMAT}\n\nProblem:\n{question}\n\nExperts' answers:\n{context}`
    )
  ],
  edges: [
    { from: "math_agent", to: "summarizer" },
    { from: "science_agent", to: "summarizer" },
    { from: "code_agent", to: "summarizer" }
  ],
  terminal: "summarizer"
}

export const SIM_TOPOLOGIES: Readonly<Record<string, TopologySpec>> = {
  sequential: simSequential,
  hierarchical: simHierarchical
}
