import { ANSWER_FORMAT, type TaskKind, type TopologySpec } from "@maspo/core"

/**
 * The multi-agent systems of the paper, with seed prompts in our own wording. Each seed prompt states
 * the answer format its task's scorer expects, and has exactly the slots {question} and {context}.
 */

type RealKind = Exclude<TaskKind, "arith">

const FORMAT = ANSWER_FORMAT

const SUBJECT: Record<RealKind, string> = {
  math: "math problem",
  choice: "multiple-choice question",
  code: "programming task"
}

const agent = (id: string, role: string, prompt: string) => ({ kind: "agent" as const, id, role, prompt })

const sequential = (kind: RealKind): TopologySpec => ({
  name: "sequential",
  nodes: [
    agent(
      "solver",
      "Solves the task from scratch",
      `You are a careful problem solver. Work through the following ${SUBJECT[kind]} step by step.\n` +
        `${FORMAT[kind]}\n\nTask:\n{question}\n\nNotes from earlier agents (may be empty):\n{context}`
    ),
    agent(
      "reflector",
      "Reviews the solver's summarised answer and gives the final answer",
      `You are a reviewer. Below is a ${SUBJECT[kind]} and a summary of another agent's solution. ` +
        `Check the solution for mistakes, fix any you find, and give the final answer.\n${FORMAT[kind]}\n\n` +
        `Task:\n{question}\n\nSolver's summary:\n{context}`
    )
  ],
  edges: [{ from: "solver", to: "reflector" }],
  terminal: "reflector"
})

const expert = (id: string, field: string, kind: RealKind) =>
  agent(
    id,
    `Answers from the point of view of ${field}`,
    `You are an expert in ${field}. Solve the following ${SUBJECT[kind]} using the methods of your field.\n` +
      `${FORMAT[kind]}\n\nTask:\n{question}\n\n{context}`
  )

const hierarchical = (kind: RealKind): TopologySpec => ({
  name: "hierarchical",
  nodes: [
    expert("math_agent", "mathematics", kind),
    expert("science_agent", "the natural sciences", kind),
    expert("code_agent", "programming and algorithms", kind),
    agent(
      "summarizer",
      "Combines the experts' answers into the final answer",
      `You lead a team of experts who each answered the ${SUBJECT[kind]} below. Weigh their answers, ` +
        `resolve disagreements by checking the reasoning, and give the final answer.\n${FORMAT[kind]}\n\n` +
        `Task:\n{question}\n\nExperts' answers:\n{context}`
    )
  ],
  edges: [
    { from: "math_agent", to: "summarizer" },
    { from: "science_agent", to: "summarizer" },
    { from: "code_agent", to: "summarizer" }
  ],
  terminal: "summarizer"
})

/** Two solvers, two rounds (the second sees both first-round answers), then a majority vote. */
const debate = (kind: RealKind): TopologySpec => {
  const first = (id: string) =>
    agent(
      id,
      "Debater, first round",
      `Solve the following ${SUBJECT[kind]} step by step.\n${FORMAT[kind]}\n\nTask:\n{question}\n\n{context}`
    )
  const second = (id: string) =>
    agent(
      id,
      "Debater, second round",
      `Two agents answered the ${SUBJECT[kind]} below. Consider their answers critically, ` +
        `then give your own final answer.\n${FORMAT[kind]}\n\nTask:\n{question}\n\nFirst-round answers:\n{context}`
    )
  return {
    name: "debate",
    nodes: [
      first("debater_a1"),
      first("debater_b1"),
      second("debater_a2"),
      second("debater_b2"),
      { kind: "aggregator", id: "vote", method: "majority" }
    ],
    edges: [
      { from: "debater_a1", to: "debater_a2" },
      { from: "debater_b1", to: "debater_a2" },
      { from: "debater_a1", to: "debater_b2" },
      { from: "debater_b1", to: "debater_b2" },
      { from: "debater_a2", to: "vote" },
      { from: "debater_b2", to: "vote" }
    ],
    terminal: "vote"
  }
}

export const topologiesFor = (kind: RealKind): Readonly<Record<string, TopologySpec>> => ({
  sequential: sequential(kind),
  hierarchical: hierarchical(kind),
  debate: debate(kind)
})
