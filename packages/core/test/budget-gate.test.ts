import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import * as fc from "fast-check"
import {
  admit,
  Budget,
  type BudgetCap,
  defaultRoleDefaults,
  LanguageModel,
  type LanguageModelClient,
  messagesTokens,
  openGate,
  promptTokenBound,
  release,
  type Spend,
  spentOf
} from "../src/index.ts"

const capArb: fc.Arbitrary<BudgetCap> = fc.oneof(
  fc.record({ maxCalls: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ maxTokens: fc.integer({ min: 0, max: 3000 }) }),
  fc.record({ maxCalls: fc.integer({ min: 0, max: 30 }), maxTokens: fc.integer({ min: 0, max: 3000 }) })
)

const within = (s: Spend, cap: BudgetCap) =>
  (cap.maxCalls === undefined || s.calls <= cap.maxCalls) &&
  (cap.maxTokens === undefined || s.tokens <= cap.maxTokens)

describe("the budget gate's admission rule", () => {
  it("in any interleaving of admissions and settlements, used + reserved never exceeds the cap", () =>
    fc.assert(
      fc.property(
        capArb,
        fc.array(
          fc.record({
            bound: fc.integer({ min: 0, max: 400 }),
            share: fc.double({ min: 0, max: 1, noNaN: true }),
            settleFirst: fc.nat({ max: 5 })
          }),
          { maxLength: 60 }
        ),
        (cap, calls) => {
          let gate = openGate
          let used: Spend = { calls: 0, tokens: 0 }
          const inFlight: Array<{ claim: Spend; actual: number }> = []
          let refusedOnce = false
          for (const c of calls) {
            // Settle some of the calls in flight first, in an order the case decides.
            for (let k = 0; k < c.settleFirst && inFlight.length > 0; k++) {
              const done = inFlight.splice(k % inFlight.length, 1)[0]!
              used = { calls: used.calls + 1, tokens: used.tokens + done.actual }
              gate = release(gate, done.claim, used, cap)
            }
            const claim = { calls: 1, tokens: c.bound }
            const next = admit(gate, used, claim, cap)
            gate = next.gate
            if (refusedOnce) assert.isFalse(next.admitted, "a closed gate admits nothing")
            if (next.admitted) inFlight.push({ claim, actual: Math.floor(c.bound * c.share) })
            else refusedOnce = true
            assert.isTrue(
              within(
                { calls: used.calls + gate.reserved.calls, tokens: used.tokens + gate.reserved.tokens },
                cap
              )
            )
          }
          for (const done of inFlight) {
            used = { calls: used.calls + 1, tokens: used.tokens + done.actual }
            gate = release(gate, done.claim, used, cap)
          }
          assert.isTrue(within(used, cap))
          assert.deepStrictEqual(gate.reserved, { calls: 0, tokens: 0 })
        }
      )
    ))

  it("the prompt bound is at least the UTF-8 byte count and the simulator's token count", () =>
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            role: fc.constantFrom("system", "user", "assistant"),
            content: fc.string({ unit: "binary", maxLength: 200 })
          }),
          {
            maxLength: 5
          }
        ),
        (messages) => {
          const bound = promptTokenBound(messages)
          const bytes = messages.reduce((n, m) => n + Buffer.byteLength(m.content, "utf8"), 0)
          assert.isAtLeast(bound, bytes)
          assert.isAtLeast(bound, messagesTokens(messages))
        }
      )
    ))
})

/** A client whose calls take a seeded number of scheduler turns and report a seeded share of the bound. */
const slowClient = (
  turns: ReadonlyArray<number>,
  shares: ReadonlyArray<number>,
  over = 0
): LanguageModelClient => ({
  provider: "test",
  model: "test",
  usageBound: (request) => Effect.succeed({ promptTokens: 10 + request.sampleIndex, completionTokens: 40 }),
  generate: (request) =>
    Effect.gen(function* () {
      const i = request.sampleIndex
      for (let k = 0; k < turns[i % turns.length]!; k++) yield* Effect.yieldNow
      const bound = 50 + i
      return {
        text: "ok",
        usage: {
          promptTokens: 10 + i,
          completionTokens: Math.floor((bound - 10 - i) * shares[i % shares.length]!) + over
        }
      }
    })
})

const world = (client: LanguageModelClient) =>
  LanguageModel.layer({ agent: client, optimizer: client, evaluator: client }, defaultRoleDefaults(0)).pipe(
    Layer.provideMerge(Budget.layer)
  )

describe("the Budget under concurrent calls", () => {
  it("random concurrent calls through LanguageModel.generate never take the used figures past the cap", () =>
    fc.assert(
      fc.asyncProperty(
        capArb,
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.nat({ max: 6 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 16 }),
        (cap, n, turns, shares, concurrency) =>
          Effect.runPromise(
            Effect.gen(function* () {
              const lm = yield* LanguageModel
              const budget = yield* Budget
              const exit = yield* Effect.exit(
                budget.withCap(
                  cap,
                  Effect.forEach(
                    Array.from({ length: n }, (_, i) => i),
                    (i) =>
                      lm.generate(["agent", "optimizer", "evaluator"][i % 3] as "agent", {
                        messages: [{ role: "user", content: "q" }],
                        sampleIndex: i
                      }),
                    { concurrency }
                  )
                )
              )
              const used = spentOf(yield* budget.report)
              assert.isTrue(within(used, cap), JSON.stringify({ used, cap }))
              if (Exit.isFailure(exit)) {
                const refused = exit.cause.toString().includes("BudgetExhausted")
                assert.isTrue(refused, String(exit.cause))
              } else assert.strictEqual(used.calls, n)
            }).pipe(Effect.provide(world(slowClient(turns, shares))))
          )
      ),
      { numRuns: 60 }
    ))

  it.effect(
    "a provider that reports more than its bound: the overshoot is counted and reported, the next call refused",
    () =>
      Effect.gen(function* () {
        const lm = yield* LanguageModel
        const budget = yield* Budget
        const cap = { maxTokens: 110 }
        const call = (i: number) =>
          lm.generate("agent", { messages: [{ role: "user", content: "q" }], sampleIndex: i })
        const result = yield* budget.withCap(
          cap,
          Effect.gen(function* () {
            // Each call is bounded by 50 tokens but reports 57 (its bound plus 7): the second one is
            // admitted (57 + 50 <= 110) and ends at 114, past the cap.
            yield* call(0)
            yield* call(0)
            const status = yield* budget.capStatus
            const third = yield* Effect.exit(call(0))
            return { status, third }
          })
        )
        assert.deepStrictEqual(spentOf(yield* budget.report), { calls: 2, tokens: 114 })
        assert.isTrue(result.status.reached)
        assert.deepStrictEqual(result.status.overshoot, { calls: 0, tokens: 4 })
        // The gate closed: the next call is refused before it is sent, even a small one.
        assert.isTrue(Exit.isFailure(result.third))
        assert.include(String(Exit.isFailure(result.third) ? result.third.cause : ""), "BudgetExhausted")
      }).pipe(Effect.provide(world(slowClient([0], [1], 7))))
  )

  it.effect("without a cap every call is admitted and counted", () =>
    Effect.gen(function* () {
      const lm = yield* LanguageModel
      yield* Effect.forEach(
        [0, 1, 2, 3],
        (i) => lm.generate("agent", { messages: [{ role: "user", content: "q" }], sampleIndex: i }),
        {
          concurrency: "unbounded"
        }
      )
      assert.strictEqual(spentOf(yield* (yield* Budget).report).calls, 4)
    }).pipe(Effect.provide(world(slowClient([2], [0.5]))))
  )
})
