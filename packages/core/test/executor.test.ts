import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Layer } from "effect"
import {
  Budget,
  type LMRequest,
  MasExecutor,
  makeTopology,
  parseCompressionRequest,
  parseContext,
  scriptedLanguageModel,
  type ScriptedReply,
  type Task,
  type TopologySpec
} from "@maspo/core"

const task: Task = {
  name: "toy",
  kind: "arith",
  compressionWords: 30,
  extract: (reply) => /<answer>(.*?)<\/answer>/.exec(reply)?.[1],
  voteKey: (a) => a.trim(),
  score: () => Effect.succeed(0)
}
const item = { id: "q1", question: "What is 2+2?", gold: "4" }

const agent = (id: string) => ({
  kind: "agent" as const,
  id,
  role: id,
  prompt: `I am ${id}. {question}\n{context}`
})
const whoAmI = (req: LMRequest) => /I am (\w+)\./.exec(req.messages[0]!.content)?.[1] ?? "?"

/** Agents answer with their name and the names they saw in context; compression echoes a tag. */
const echo =
  (log: Array<string>): ScriptedReply =>
  (req) => {
    const content = req.messages[0]!.content
    const comp = parseCompressionRequest(content)
    if (comp) return `summary(${comp.output})`
    const me = whoAmI(req)
    log.push(me)
    const seen = content.includes("[")
      ? parseContext(content.split("\n").slice(1).join("\n")).map((c) => c.agentId)
      : []
    return `${me} saw [${seen.join(",")}] <answer>${me}</answer>`
  }

const sequential: TopologySpec = {
  name: "chain",
  nodes: [agent("solver"), agent("reviewer"), agent("editor")],
  edges: [
    { from: "solver", to: "reviewer" },
    { from: "reviewer", to: "editor" }
  ],
  terminal: "editor"
}

const parallel: TopologySpec = {
  name: "fan",
  nodes: [agent("math"), agent("science"), agent("summarizer")],
  edges: [
    { from: "math", to: "summarizer" },
    { from: "science", to: "summarizer" }
  ],
  terminal: "summarizer"
}

const withScript = (reply: ScriptedReply) =>
  MasExecutor.layer.pipe(Layer.provideMerge(scriptedLanguageModel(reply)))

describe("MasExecutor", () => {
  it.effect("runs agents in topological order with compressed context and extracts the final answer", () => {
    const log: Array<string> = []
    return Effect.gen(function* () {
      const topo = yield* makeTopology(sequential)
      const exec = yield* MasExecutor
      const trace = yield* exec.run(topo, {}, task, item)
      assert.deepStrictEqual(log, ["solver", "reviewer", "editor"])
      assert.deepStrictEqual(
        trace.agents.map((a) => a.agentId),
        ["solver", "reviewer", "editor"]
      )
      const reviewer = trace.agents[1]!
      assert.strictEqual(reviewer.context, `[solver] summary(${trace.agents[0]!.rawOutput})`)
      assert.strictEqual(trace.answer, "editor")
      assert.strictEqual(trace.agents.flatMap((a) => a.calls).length, 6)
      const report = yield* (yield* Budget).report
      assert.strictEqual(report.agent.calls, 6)
      assert.strictEqual(report.optimizer.calls, 0)
    }).pipe(Effect.provide(withScript(echo(log))))
  })

  it.effect("runs the agents of one level concurrently", () =>
    Effect.gen(function* () {
      // Each parallel agent waits until the other has started: a sequential executor would deadlock.
      const started = { math: yield* Deferred.make<void>(), science: yield* Deferred.make<void>() }
      const reply: ScriptedReply = (req) => {
        const content = req.messages[0]!.content
        if (parseCompressionRequest(content)) return "short"
        const me = whoAmI(req)
        if (me === "math" || me === "science") {
          const other = me === "math" ? "science" : "math"
          return Deferred.succeed(started[me], undefined).pipe(
            Effect.andThen(Deferred.await(started[other])),
            Effect.as(`<answer>${me}</answer>`)
          )
        }
        return `<answer>${me}</answer>`
      }
      const trace = yield* Effect.gen(function* () {
        const topo = yield* makeTopology(parallel)
        return yield* (yield* MasExecutor).run(topo, {}, task, item)
      }).pipe(Effect.provide(withScript(reply)), Effect.timeout("5 seconds"))
      assert.strictEqual(trace.answer, "summarizer")
      assert.strictEqual(trace.agents[2]!.context, "[math] short\n---\n[science] short")
    })
  )

  it.effect("re-runs only the given agent and its descendants, reusing upstream outputs", () => {
    const log: Array<string> = []
    return Effect.gen(function* () {
      const topo = yield* makeTopology(sequential)
      const exec = yield* MasExecutor
      const base = yield* exec.run(topo, {}, task, item)
      log.length = 0
      const prompts = { reviewer: "I am critic. {question}\n{context}" }
      const rerun = yield* exec.rerunFrom(topo, prompts, task, item, base, "reviewer")
      assert.deepStrictEqual(log, ["critic", "editor"])
      assert.strictEqual(rerun.agents[0], base.agents[0])
      assert.strictEqual(rerun.agents[1]!.rawOutput, "critic saw [solver] <answer>critic</answer>")
      log.length = 0
      yield* exec.rerunFrom(topo, {}, task, item, base, "editor")
      assert.deepStrictEqual(log, ["editor"])
    }).pipe(Effect.provide(withScript(echo(log))))
  })

  it.effect("a majority aggregator votes over extracted answers, ties to the first voter", () => {
    const answers: Record<string, string> = { a: "7", b: "8", c: "8", d: "9", e: "10" }
    const reply: ScriptedReply = (req) =>
      parseCompressionRequest(req.messages[0]!.content) ? "s" : `<answer>${answers[whoAmI(req)]}</answer>`
    const spec = (voters: Array<string>): TopologySpec => ({
      name: "vote",
      nodes: [...voters.map(agent), { kind: "aggregator", id: "vote", method: "majority" }],
      edges: voters.map((v) => ({ from: v, to: "vote" })),
      terminal: "vote"
    })
    return Effect.gen(function* () {
      const exec = yield* MasExecutor
      const majority = yield* exec.run(yield* makeTopology(spec(["a", "b", "c"])), {}, task, item)
      assert.strictEqual(majority.answer, "8")
      const tie = yield* exec.run(yield* makeTopology(spec(["d", "e"])), {}, task, item)
      assert.strictEqual(tie.answer, "9")
      assert.strictEqual(tie.agents.find((a) => a.agentId === "vote")!.calls.length, 0)
    }).pipe(Effect.provide(withScript(reply)))
  })

  it.effect("truncates a compressed output to the task's word limit", () =>
    Effect.gen(function* () {
      const topo = yield* makeTopology(sequential)
      const trace = yield* (yield* MasExecutor).run(topo, {}, task, item)
      assert.strictEqual(trace.agents[0]!.compressedOutput.split(" ").length, 30)
    }).pipe(
      Effect.provide(
        withScript((req) =>
          parseCompressionRequest(req.messages[0]!.content)
            ? Array.from({ length: 80 }, (_, i) => `w${i}`).join(" ")
            : "<answer>x</answer>"
        )
      )
    )
  )
})
