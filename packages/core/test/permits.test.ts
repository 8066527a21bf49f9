import { assert, describe, it } from "@effect/vitest"
import { makePermits } from "@maspo/core/openai"
import { Deferred, Effect, Fiber } from "effect"
import fc from "fast-check"

/**
 * Tasks that each hold a permit until released by hand, so a test decides the interleaving: it
 * records the order tasks start in and the most that ever ran at once.
 */
const harness = (permits: number) =>
  Effect.gen(function* () {
    const p = makePermits(permits)
    const started: Array<number> = []
    let running = 0
    let peak = 0
    const gates = new Map<number, Deferred.Deferred<void>>()
    const task = (i: number) =>
      p.withPermit(
        Effect.gen(function* () {
          running++
          peak = Math.max(peak, running)
          started.push(i)
          yield* Deferred.await(gates.get(i)!)
        }).pipe(Effect.ensuring(Effect.sync(() => running--)))
      )
    const spawn = (i: number) =>
      Effect.gen(function* () {
        gates.set(i, yield* Deferred.make<void>())
        const fiber = yield* Effect.forkChild(task(i))
        yield* Effect.yieldNow
        return fiber
      })
    const finish = (i: number) =>
      Deferred.succeed(gates.get(i)!, undefined).pipe(Effect.andThen(Effect.yieldNow))
    return { p, started, peak: () => peak, spawn, finish }
  })

describe("Permits", () => {
  it.effect("serves waiters in arrival order and never runs more than its permits", () =>
    Effect.gen(function* () {
      const h = yield* harness(2)
      const fibers = []
      for (let i = 0; i < 6; i++) fibers.push(yield* h.spawn(i))
      assert.deepStrictEqual(h.started, [0, 1])
      assert.strictEqual(h.p.waiting(), 4)
      for (const i of [1, 0, 2, 3, 4, 5]) yield* h.finish(i)
      for (const f of fibers) yield* Fiber.join(f)
      assert.deepStrictEqual(h.started, [0, 1, 2, 3, 4, 5])
      assert.strictEqual(h.peak(), 2)
      assert.strictEqual(h.p.available(), 2)
      assert.strictEqual(h.p.waiting(), 0)
    })
  )

  it.effect("an interrupted waiter leaves the queue; an interrupted holder gives its permit back", () =>
    Effect.gen(function* () {
      const h = yield* harness(1)
      const holder = yield* h.spawn(0)
      const waiter = yield* h.spawn(1)
      const last = yield* h.spawn(2)
      yield* Fiber.interrupt(waiter)
      assert.strictEqual(h.p.waiting(), 1)
      yield* Fiber.interrupt(holder)
      yield* Effect.yieldNow
      assert.deepStrictEqual(h.started, [0, 2])
      yield* h.finish(2)
      yield* Fiber.join(last)
      assert.strictEqual(h.p.available(), 1)
    })
  )

  it.effect("property: any interleaving of finishes and interrupts keeps the count and the order", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 4 }),
          fc.array(fc.tuple(fc.boolean(), fc.nat()), { minLength: 1, maxLength: 30 }),
          (permits, script) =>
            Effect.runPromise(
              Effect.gen(function* () {
                const h = yield* harness(permits)
                const n = script.length
                const fibers = []
                for (let i = 0; i < n; i++) fibers.push(yield* h.spawn(i))
                const interrupted = new Set<number>()
                // Each step ends (finishes or interrupts) one task that has not ended yet.
                const open = Array.from({ length: n }, (_, i) => i)
                for (const [interrupt, pick] of script) {
                  const i = open.splice(pick % open.length, 1)[0]!
                  if (interrupt) {
                    interrupted.add(i)
                    yield* Fiber.interrupt(fibers[i]!)
                  } else yield* h.finish(i)
                  yield* Effect.yieldNow
                }
                for (const f of fibers) yield* Fiber.await(f)
                assert.isAtMost(h.peak(), permits)
                assert.strictEqual(h.p.available(), permits)
                assert.strictEqual(h.p.waiting(), 0)
                // Tasks start in arrival order; only tasks interrupted before their turn are skipped.
                const sorted = [...h.started].sort((a, b) => a - b)
                assert.deepStrictEqual(h.started, sorted)
                for (let i = 0; i < n; i++)
                  if (!h.started.includes(i)) assert.isTrue(interrupted.has(i), `task ${i} never ran`)
              })
            )
        ),
        { numRuns: 200 }
      )
    )
  )
})
