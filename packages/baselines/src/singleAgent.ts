import {
  ANSWER_FORMAT,
  type AgentTrace,
  type CallRecord,
  LanguageModel,
  type LMResponse,
  type Task,
  type TaskItem,
  type TaskKind,
  type TopologySpec,
  type Trace
} from "@maspo/core"
import { Effect } from "effect"

/**
 * Single-agent comparison rows of the paper. Vanilla, CoT and Self-Consistency are topologies (so
 * they run through the same executor, cache and budget as every MAS); Self-Refine stops early, so it
 * is a runner of its own.
 */

const single = (name: string, id: string, role: string, prompt: string): TopologySpec => ({
  name,
  nodes: [{ kind: "agent", id, role, prompt }],
  edges: [],
  terminal: id
})

export const vanillaPrompt = (kind: TaskKind) =>
  `Answer the following question directly, without explanation.\n${ANSWER_FORMAT[kind]}\n\n{question}\n{context}`

export const cotPrompt = (kind: TaskKind) =>
  `Solve the following problem. Think step by step and show your reasoning.\n${ANSWER_FORMAT[kind]}\n\n{question}\n{context}`

export const vanillaTopology = (kind: TaskKind) =>
  single("vanilla", "answerer", "Answers directly", vanillaPrompt(kind))

export const cotTopology = (kind: TaskKind) =>
  single("cot", "reasoner", "Reasons step by step", cotPrompt(kind))

/**
 * Self-Consistency: `n` chain-of-thought samples at temperature > 0, each with its own sample index,
 * then a majority vote on the extracted answers. Ties go to the earliest sample.
 */
export const selfConsistencyTopology = (kind: TaskKind, n = 5, temperature = 0.7): TopologySpec => ({
  name: `self-consistency-${n}`,
  nodes: [
    ...Array.from({ length: n }, (_, i) => ({
      kind: "agent" as const,
      id: `sample_${i + 1}`,
      role: "Reasons step by step (one sample)",
      prompt: cotPrompt(kind),
      temperature,
      sampleOffset: i
    })),
    { kind: "aggregator", id: "vote", method: "majority" }
  ],
  edges: Array.from({ length: n }, (_, i) => ({ from: `sample_${i + 1}`, to: "vote" })),
  terminal: "vote"
})

export const NO_ISSUES = "NO ISSUES"

export const critiquePrompt = (question: string, answer: string) =>
  `Review the answer below for mistakes in reasoning, calculation or format.\n` +
  `If it is fully correct, reply with exactly: ${NO_ISSUES}\nOtherwise list each problem briefly.\n\n` +
  `Question:\n${question}\n\nAnswer:\n${answer}`

export const revisePrompt = (kind: TaskKind, question: string, answer: string, critique: string) =>
  `Revise your answer to fix the problems the reviewer found.\n${ANSWER_FORMAT[kind]}\n\n` +
  `Question:\n${question}\n\nYour previous answer:\n${answer}\n\nReviewer's feedback:\n${critique}`

/** The critique accepts the answer: the refine loop stops. */
export const critiqueAccepts = (critique: string): boolean => critique.toUpperCase().includes(NO_ISSUES)

/**
 * Self-Refine: answer (CoT), then up to `rounds` times critique and revise; it stops as soon as the
 * critique finds no issues. Every call goes through the LanguageModel service (agent role).
 */
export const selfRefine = (task: Task, rounds = 2) =>
  Effect.fn("selfRefine")(function* (item: TaskItem) {
    const lm = yield* LanguageModel
    const steps: Array<AgentTrace> = []
    const record = (agentId: string, prompt: string, context: string, r: LMResponse): AgentTrace => {
      const call: CallRecord = {
        role: "agent",
        purpose: "answer",
        sampleIndex: 0,
        ...r.usage,
        cached: r.cached === true
      }
      const trace: AgentTrace = {
        agentId,
        kind: "agent",
        question: item.question,
        context,
        prompt,
        rawOutput: r.text,
        compressedOutput: r.text,
        calls: [call]
      }
      steps.push(trace)
      return trace
    }
    const first = cotPrompt(task.kind).replace("{question}", item.question).replace("{context}", "")
    let answer = record(
      "answer",
      first,
      "",
      yield* lm.generate("agent", { messages: [{ role: "user", content: first }] })
    ).rawOutput
    for (let r = 1; r <= rounds; r++) {
      const cp = critiquePrompt(item.question, answer)
      const critique = record(
        `critique_${r}`,
        cp,
        answer,
        yield* lm.generate("agent", { messages: [{ role: "user", content: cp }] })
      ).rawOutput
      if (critiqueAccepts(critique)) break
      const rp = revisePrompt(task.kind, item.question, answer, critique)
      answer = record(
        `revise_${r}`,
        rp,
        critique,
        yield* lm.generate("agent", { messages: [{ role: "user", content: rp }] })
      ).rawOutput
    }
    const extracted = task.extract(answer)
    const trace: Trace = {
      itemId: item.id,
      question: item.question,
      agents: steps,
      terminal: steps[steps.length - 1]!.agentId,
      finalOutput: answer,
      ...(extracted !== undefined ? { answer: extracted } : {})
    }
    return trace
  })
