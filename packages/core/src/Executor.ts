import { Context, Effect, Layer } from "effect"
import { LanguageModel, type ModelCallError } from "./LanguageModel.ts"
import type { PromptSet } from "./PromptSet.ts"
import { CONTEXT_SEPARATOR, formatContext, truncateWords } from "./protocol.ts"
import { compressRequest } from "./templates/requests.ts"
import { RequestTemplates } from "./templates/TemplateSet.ts"
import { fillTemplate } from "./Slots.ts"
import type { Task, TaskItem } from "./Task.ts"
import { type Topology, descendants } from "./Topology.ts"
import type { AgentTrace, Trace } from "./Trace.ts"

export interface RunOptions {
  /** Distinguishes repeated runs of the same question (sampling at temperature > 0). */
  readonly sampleIndex?: number
}

/** How the executor builds a successor's input (the released code and maspo differ). */
export interface ExecutorOptions {
  /** `[agentId] text` per predecessor (default); off, the bare texts joined by the separator. */
  readonly labelledContext: boolean
  /** Compression replies cut to the task's word limit (default); off, used as they come. */
  readonly enforceWordLimit: boolean
}

export const defaultExecutorOptions: ExecutorOptions = { labelledContext: true, enforceWordLimit: true }

/**
 * Runs a multi-agent system on one question: level by level in topological order, the agents of a
 * level concurrently. Each LLM agent makes an answer call and a compression call; successors see
 * their predecessors' compressed outputs.
 */
export class MasExecutor extends Context.Service<
  MasExecutor,
  {
    readonly run: (
      topology: Topology,
      prompts: PromptSet,
      task: Task,
      item: TaskItem,
      options?: RunOptions
    ) => Effect.Effect<Trace, ModelCallError>
    /**
     * Re-runs `agentId` and its descendants with `prompts`, reusing every other node's output from
     * `base`: what the optimizer needs to score a candidate prompt for one agent.
     */
    readonly rerunFrom: (
      topology: Topology,
      prompts: PromptSet,
      task: Task,
      item: TaskItem,
      base: Trace,
      agentId: string,
      options?: RunOptions
    ) => Effect.Effect<Trace, ModelCallError>
  }
>()("@maspo/core/MasExecutor") {
  static readonly layerWith = (options: ExecutorOptions) =>
    Layer.effect(
      MasExecutor,
      Effect.gen(function* () {
        const lm = yield* LanguageModel
        const templates = yield* RequestTemplates

        const runAgent = Effect.fnUntraced(function* (
          topology: Topology,
          id: string,
          prompts: PromptSet,
          task: Task,
          item: TaskItem,
          done: ReadonlyMap<string, AgentTrace>,
          sampleIndex: number
        ) {
          const node = topology.nodes.get(id)!
          const preds = topology.predecessors.get(id)!.map((p) => done.get(p)!)
          const context = options.labelledContext
            ? formatContext(preds.map((p) => ({ agentId: p.agentId, text: p.compressedOutput })))
            : preds.map((p) => p.compressedOutput).join(CONTEXT_SEPARATOR)
          if (node.kind === "aggregator") return aggregate(id, item, context, preds, task)
          const prompt = prompts[id] ?? node.prompt
          const filled = fillTemplate(prompt, { question: item.question, context })
          const answerIndex = sampleIndex + (node.sampleOffset ?? 0)
          const answer = yield* lm.generate("agent", {
            messages: [{ role: "user", content: filled }],
            sampleIndex: answerIndex,
            ...(node.temperature !== undefined ? { temperature: node.temperature } : {}),
            ...(templates.agentMaxTokens !== undefined ? { templateMaxTokens: templates.agentMaxTokens } : {})
          })
          const compressed = yield* lm.generate("agent", {
            ...compressRequest(templates, answer.text, task.compressionWords),
            sampleIndex
          })
          const trace: AgentTrace = {
            agentId: id,
            kind: "agent",
            question: item.question,
            context,
            prompt,
            rawOutput: answer.text,
            // The word limit is part of the protocol, so it holds whatever the model returns.
            compressedOutput: options.enforceWordLimit
              ? truncateWords(compressed.text, task.compressionWords)
              : compressed.text,
            calls: [
              {
                role: "agent",
                purpose: "answer",
                sampleIndex: answerIndex,
                ...answer.usage,
                cached: answer.cached === true
              },
              {
                role: "agent",
                purpose: "compress",
                sampleIndex,
                ...compressed.usage,
                cached: compressed.cached === true
              }
            ]
          }
          return trace
        })

        const execute = Effect.fnUntraced(function* (
          topology: Topology,
          prompts: PromptSet,
          task: Task,
          item: TaskItem,
          reuse: ReadonlyMap<string, AgentTrace>,
          options: RunOptions | undefined
        ) {
          const sampleIndex = options?.sampleIndex ?? 0
          const done = new Map<string, AgentTrace>()
          for (const level of topology.levels) {
            const traces = yield* Effect.forEach(
              level,
              (id) => {
                const kept = reuse.get(id)
                return kept
                  ? Effect.succeed(kept)
                  : runAgent(topology, id, prompts, task, item, done, sampleIndex)
              },
              { concurrency: "unbounded" }
            )
            for (const t of traces) done.set(t.agentId, t)
          }
          const terminal = done.get(topology.terminal)!
          const answer = task.extract(terminal.rawOutput)
          const trace: Trace = {
            itemId: item.id,
            question: item.question,
            agents: topology.order.map((id) => done.get(id)!),
            terminal: topology.terminal,
            finalOutput: terminal.rawOutput,
            ...(answer !== undefined ? { answer } : {})
          }
          return trace
        })

        const run = Effect.fn("MasExecutor.run")(function* (
          topology: Topology,
          prompts: PromptSet,
          task: Task,
          item: TaskItem,
          options?: RunOptions
        ) {
          return yield* execute(topology, prompts, task, item, new Map(), options)
        })

        const rerunFrom = Effect.fn("MasExecutor.rerunFrom")(function* (
          topology: Topology,
          prompts: PromptSet,
          task: Task,
          item: TaskItem,
          base: Trace,
          agentId: string,
          options?: RunOptions
        ) {
          const stale = descendants(topology, agentId).add(agentId)
          const reuse = new Map(base.agents.filter((a) => !stale.has(a.agentId)).map((a) => [a.agentId, a]))
          return yield* execute(topology, prompts, task, item, reuse, options)
        })

        return MasExecutor.of({ run, rerunFrom })
      })
    )

  static readonly layer = MasExecutor.layerWith(defaultExecutorOptions)
}

/**
 * Majority vote over the predecessors' extracted answers. Ties go to the earliest predecessor in
 * declaration order, so the vote is deterministic. The node passes on the winning predecessor's
 * texts, so downstream extraction works for any task.
 */
const aggregate = (
  id: string,
  item: TaskItem,
  context: string,
  preds: ReadonlyArray<AgentTrace>,
  task: Task
): AgentTrace => {
  const votes = new Map<string, { count: number; first: number }>()
  preds.forEach((p, i) => {
    const ans = task.extract(p.rawOutput)
    if (ans === undefined) return
    const key = task.voteKey(ans)
    const v = votes.get(key)
    votes.set(key, v ? { count: v.count + 1, first: v.first } : { count: 1, first: i })
  })
  const best = [...votes.values()].sort((a, b) => b.count - a.count || a.first - b.first)[0]
  const winner = preds[best?.first ?? 0]!
  return {
    agentId: id,
    kind: "aggregator",
    question: item.question,
    context,
    prompt: "",
    rawOutput: best ? winner.rawOutput : "",
    compressedOutput: best ? winner.compressedOutput : "",
    calls: []
  }
}
