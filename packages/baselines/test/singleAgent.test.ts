import { assert, describe, it } from "@effect/vitest"
import {
  Budget,
  type LMRequest,
  MasExecutor,
  makeTopology,
  parseCompressionRequest,
  scriptedLanguageModel,
  type Task
} from "@maspo/core"
import { Effect, Layer } from "effect"
import { cotTopology, NO_ISSUES, selfConsistencyTopology, selfRefine, vanillaTopology } from "../src/index.ts"

const task: Task = {
  name: "toy",
  kind: "arith",
  compressionWords: 30,
  extract: (reply) => /<answer>(.*?)<\/answer>/.exec(reply)?.[1],
  voteKey: (a) => a.trim(),
  score: (item, reply) => Effect.succeed(reply.includes(`<answer>${item.gold}</answer>`) ? 1 : 0)
}
const item = { id: "q", question: "What is 6 times 7?", gold: "42" }

const withSamples = (answers: ReadonlyArray<string>, seen: Array<LMRequest>) =>
  MasExecutor.layer.pipe(
    Layer.provideMerge(
      scriptedLanguageModel((req) => {
        if (parseCompressionRequest(req.messages[0]!.content)) return "summary"
        seen.push(req)
        return `reasoning... <answer>${answers[req.sampleIndex]}</answer>`
      })
    )
  )

const runSC = (answers: ReadonlyArray<string>, seen: Array<LMRequest> = []) =>
  Effect.gen(function* () {
    const topo = yield* makeTopology(selfConsistencyTopology("arith", answers.length))
    return yield* (yield* MasExecutor).run(topo, {}, task, item)
  }).pipe(Effect.provide(withSamples(answers, seen)))

describe("single-agent baselines", () => {
  it.effect("vanilla and CoT are one-agent systems that state the answer format", () =>
    Effect.gen(function* () {
      for (const spec of [vanillaTopology("math"), cotTopology("choice")]) {
        const t = yield* makeTopology(spec)
        assert.strictEqual(t.agentIds.length, 1)
      }
      const node = cotTopology("math").nodes[0]!
      assert.include(node.kind === "agent" ? node.prompt : "", "\\boxed{}")
    })
  )

  it.effect(
    "self-consistency samples n times with distinct indices at temperature > 0 and takes the majority",
    () =>
      Effect.gen(function* () {
        const seen: Array<LMRequest> = []
        const trace = yield* runSC(["3", "5", "5", "3", "7", "5", "1"], seen)
        assert.strictEqual(trace.answer, "5")
        assert.deepStrictEqual(seen.map((r) => r.sampleIndex).sort(), [0, 1, 2, 3, 4, 5, 6])
        assert.isTrue(seen.every((r) => r.temperature === 0.7))
      })
  )

  it.effect(
    "self-consistency breaks ties towards the earliest sample, and all-distinct votes pick the first",
    () =>
      Effect.gen(function* () {
        assert.strictEqual((yield* runSC(["3", "5", "3", "5", "7"])).answer, "3")
        assert.strictEqual((yield* runSC(["5", "3", "3", "5", "7"])).answer, "5")
        assert.strictEqual((yield* runSC(["9", "8", "7", "6", "4"])).answer, "9")
      })
  )

  it.effect("self-consistency ignores samples with no extractable answer", () =>
    Effect.gen(function* () {
      const seen: Array<LMRequest> = []
      const trace = yield* Effect.gen(function* () {
        const topo = yield* makeTopology(selfConsistencyTopology("arith", 3))
        return yield* (yield* MasExecutor).run(topo, {}, task, item)
      }).pipe(
        Effect.provide(
          MasExecutor.layer.pipe(
            Layer.provideMerge(
              scriptedLanguageModel((req) => {
                if (parseCompressionRequest(req.messages[0]!.content)) return "s"
                seen.push(req)
                return req.sampleIndex === 2 ? "<answer>4</answer>" : "I am not sure"
              })
            )
          )
        )
      )
      assert.strictEqual(trace.answer, "4")
    })
  )

  const refineWorld = (acceptAtRound: number | undefined) => {
    let critiques = 0
    return scriptedLanguageModel((req) => {
      const content = req.messages[0]!.content
      if (content.startsWith("Review the answer")) {
        critiques++
        return critiques === acceptAtRound ? NO_ISSUES : "The product is wrong."
      }
      if (content.startsWith("Revise")) return `fixed <answer>42</answer>`
      return "first try <answer>41</answer>"
    })
  }

  it.effect("self-refine stops as soon as the critique accepts", () =>
    Effect.gen(function* () {
      const trace = yield* selfRefine(task, 3)(item)
      assert.deepStrictEqual(
        trace.agents.map((a) => a.agentId),
        ["answer", "critique_1", "revise_1", "critique_2"]
      )
      assert.strictEqual(trace.answer, "42")
      assert.strictEqual((yield* (yield* Budget).report).agent.calls, 4)
    }).pipe(Effect.provide(refineWorld(2)))
  )

  it.effect("self-refine makes at most 1 + 2 x rounds calls when never satisfied", () =>
    Effect.gen(function* () {
      const trace = yield* selfRefine(task, 3)(item)
      assert.strictEqual(trace.agents.length, 7)
      assert.strictEqual((yield* (yield* Budget).report).agent.calls, 7)
      const accepted = yield* selfRefine(task, 3)(item).pipe(Effect.provide(refineWorld(1)))
      assert.deepStrictEqual(
        accepted.agents.map((a) => a.agentId),
        ["answer", "critique_1"]
      )
      assert.strictEqual(accepted.answer, "41")
    }).pipe(Effect.provide(refineWorld(undefined)))
  )
})
