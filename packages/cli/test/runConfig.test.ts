import { describe, expect, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { Effect, Option } from "effect"
import * as fc from "fast-check"
import { defaultRunConfig, pairwiseMessages } from "@maspo/core"
import { CallCache } from "@maspo/core/cache"
import { arithTestItems } from "@maspo/core/sim"
import { selfOptimized } from "../src/commands/optimize.ts"
import { cacheSettings, clientsFor } from "../src/providers.ts"
import { resolveRunConfig, setPath } from "../src/runConfig.ts"

const none = {
  config: Option.none(),
  seed: Option.none(),
  task: Option.none(),
  mas: Option.none(),
  concurrency: Option.none()
}

describe("run config", () => {
  it("setPath writes at a dotted path and leaves the rest alone (property)", () =>
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "b", "c"), { minLength: 1, maxLength: 4 }),
        fc.jsonValue(),
        (keys, value) => {
          const target: Record<string, unknown> = { keep: 1 }
          setPath(target, keys.join("."), value)
          let node: unknown = target
          for (const k of keys) node = (node as Record<string, unknown>)[k]
          expect(node).toEqual(value)
          expect(target.keep).toBe(1)
        }
      )
    ))

  it.effect("flags override; --model switches every role to the HTTP provider; --set reaches any field", () =>
    Effect.gen(function* () {
      const c = yield* resolveRunConfig({
        ...none,
        seed: Option.some(9),
        model: Option.some("m1"),
        baseUrl: Option.some("http://127.0.0.1:1/v1"),
        set: Option.some({ "providers.evaluator.model": "judge", "providers.agent.extraBody.top_k": "20" })
      })
      expect(c.seed).toBe(9)
      expect(c.providers.agent).toMatchObject({ kind: "openai", model: "m1", extraBody: { top_k: 20 } })
      expect(c.providers.evaluator).toMatchObject({ kind: "openai", model: "judge" })
      expect(cacheSettings(c).mode).toBe("read-write")
      expect(cacheSettings(defaultRunConfig).mode).toBe("off")
    }).pipe(Effect.provide(NodeServices.layer))
  )

  it.effect("a bad override is an input error naming the field", () =>
    Effect.gen(function* () {
      const e = yield* Effect.flip(
        resolveRunConfig({ ...none, set: Option.some({ "providers.agent.kind": "bogus" }) })
      )
      expect(e.message).toContain("kind")
    }).pipe(Effect.provide(NodeServices.layer))
  )

  it("self-optimized gives every role the agent's provider but keeps role defaults", () => {
    const run = {
      ...defaultRunConfig,
      providers: {
        agent: { kind: "openai" as const, model: "small", temperature: 0 },
        evaluator: { kind: "openai" as const, model: "big" }
      }
    }
    const s = selfOptimized(run)
    expect(s.providers.optimizer).toEqual({ kind: "openai", model: "small" })
    expect(s.providers.evaluator).toEqual({ kind: "openai", model: "small" })
    expect(s.providers.agent).toEqual(run.providers.agent)
  })
})

describe("simulator parameters in the run config", () => {
  it.effect("a judge with accuracy 0 and no position bias always prefers the wrong answer", () =>
    Effect.gen(function* () {
      const config = {
        ...defaultRunConfig,
        providers: { evaluator: { kind: "sim" as const, sim: { judgeAccuracy: 0, positionBias: 0 } } }
      }
      const clients = yield* clientsFor(config).pipe(Effect.provide(CallCache.layer("unused", "off")))
      const item = arithTestItems(1)[0]!
      for (let seed = 0; seed < 20; seed++) {
        const [a, b] = seed % 2 === 0 ? [item.gold, "1"] : ["1", item.gold]
        const content = pairwiseMessages({
          question: item.question,
          level: "global",
          a: `<answer>${a}</answer>`,
          b: `<answer>${b}</answer>`
        })[0]!.content
        const reply = yield* clients.evaluator.generate({
          messages: [{ role: "user", content }],
          model: "maspo-sim-1",
          temperature: 0,
          maxTokens: 4,
          seed,
          sampleIndex: 0
        })
        expect(reply.text).toBe(seed % 2 === 0 ? "B" : "A")
      }
    })
  )
})
