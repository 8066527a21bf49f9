import {
  Budget,
  type LMRequest,
  MasExecutor,
  makeTopology,
  PairwiseJudge,
  parseCompressionRequest,
  parsePairwiseRequest,
  parseRefineRequest,
  Refiner,
  scriptedLanguageModel,
  sha256Hex,
  type Task,
  type TaskItem,
  type TopologySpec
} from "@maspo/core"
import { Effect, Layer } from "effect"
import { pairwiseEvaluatorLayer, type PairwiseEvaluatorOptions } from "../src/index.ts"

/**
 * A scripted world for pinning the search logic. Every prompt edit appends "[edit ...]", so an
 * agent's "generation" is visible in its outputs (`g=N`), and a reviewer's output shows the
 * generation of the solver output it saw (`saw=N`). Judges follow rules on those numbers.
 */
export const gen = (text: string) => (text.match(/\[edit /g) ?? []).length
const h = (s: string) => sha256Hex(s).slice(0, 10)

export const task: Task = {
  name: "scripted",
  kind: "arith",
  compressionWords: 30,
  extract: (reply) => /ans (\S+)/.exec(reply)?.[1],
  voteKey: (a) => a,
  score: (item, reply) => Effect.succeed(reply.includes(item.gold) ? 1 : 0)
}

export const items: Array<TaskItem> = Array.from({ length: 50 }, (_, i) => ({
  id: `q${i}`,
  question: `question number ${i}`,
  gold: `${i}`
}))

export const chain: TopologySpec = {
  name: "chain",
  nodes: [
    { kind: "agent", id: "solver", role: "solves", prompt: "Solve. {question} {context}" },
    { kind: "agent", id: "reviewer", role: "reviews", prompt: "Review. {question} {context}" }
  ],
  edges: [{ from: "solver", to: "reviewer" }],
  terminal: "reviewer"
}

const sawOf = (text: string) => Number(/saw=(\d+)/.exec(text)?.[1] ?? -1)
const genOf = (text: string) => Number(/g=(\d+)/.exec(text)?.[1] ?? -1)

/** Which response the judge picks at the downstream levels, by item index. */
export type DownstreamRule = (itemIndex: number, a: string, b: string) => "A" | "B"

export const preferHigherSaw: DownstreamRule = (_i, a, b) => (sawOf(a) >= sawOf(b) ? "A" : "B")

export const script =
  (downstream: DownstreamRule) =>
  (req: LMRequest): string => {
    const content = req.messages[req.messages.length - 1]!.content
    const comp = parseCompressionRequest(content)
    if (comp) return `c g=${genOf(comp.output)} ${h(comp.output)}`
    const pair = parsePairwiseRequest(content)
    if (pair) {
      const index = Number(/question number (\d+)/.exec(pair.question)?.[1])
      if (pair.level === "local") return genOf(pair.a) >= genOf(pair.b) ? "A" : "B"
      return downstream(index, pair.a, pair.b)
    }
    const refine = parseRefineRequest(content)
    if (refine) {
      return `<analysis>a</analysis><modification>m</modification><new_prompt>${refine.prompt} [edit ${req.sampleIndex} ${h(content)}]</new_prompt>`
    }
    const q = /question number (\d+)/.exec(content)?.[1] ?? "?"
    const ctx = /\[solver\] c g=(\d+)/.exec(content)
    // Compressed context never contains "[edit", so every edit counted here is in the agent's own prompt.
    return `ans ${q} g=${gen(content)}${ctx ? ` saw=${ctx[1]}` : ""} ${h(content)}`
  }

export const worldLayer = (downstream: DownstreamRule, evaluator: Partial<PairwiseEvaluatorOptions> = {}) => {
  const lm = scriptedLanguageModel(script(downstream))
  const base = Layer.mergeAll(MasExecutor.layer, Refiner.layer, PairwiseJudge.layer).pipe(
    Layer.provideMerge(lm)
  )
  const evaluatorLayer = pairwiseEvaluatorLayer({
    name: "joint",
    weights: { local: 0.4, lookahead: 0.4, global: 0.2 },
    debiasPosition: false,
    lookaheadDepth: 1,
    seed: 1,
    ...evaluator
  })
  return evaluatorLayer.pipe(Layer.provideMerge(base))
}

export const chainTopology = makeTopology(chain)
export { Budget }
