import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { defaultRunConfig, evaluateSystem, makeTopology } from "@maspo/core"
import { systemLayer } from "../src/layers.ts"
import { lookupTopology, openTask, TASK_NAMES } from "../src/registry.ts"

/**
 * Every task runs end to end on the simulator (an oracle for the real datasets) with both paper
 * topologies: loaders, seed prompts, executor, extraction and scoring (the code sandbox included),
 * and every split keeps the optimization pool out of the test items.
 */
describe("tasks", () => {
  for (const task of TASK_NAMES)
    for (const mas of ["sequential", "hierarchical"])
      it.effect(
        `${task} / ${mas} runs on the simulator with a disjoint split`,
        () =>
          Effect.gen(function* () {
            const config = { ...defaultRunConfig, task, topology: mas, seed: 3 }
            const entry = yield* openTask(config)
            const pool = new Set(entry.split.poolIds)
            expect(pool.size).toBe(50)
            expect(entry.split.testIds.filter((id) => pool.has(id))).toEqual([])
            expect(entry.pool.map((i) => i.id)).toEqual(entry.split.poolIds)
            const topology = yield* makeTopology(yield* lookupTopology(entry, mas))
            const items = entry.test.slice(0, 6)
            const result = yield* evaluateSystem(topology, {}, entry.task, items, { concurrency: 6 }).pipe(
              Effect.provide(systemLayer(config, entry.simulator))
            )
            expect(result.n).toBe(6)
            for (const s of result.scored) expect([0, 1]).toContain(s.score)
            if (task !== "arith") {
              // The oracle answers right with probability 0.6, so over the pool and test a task scores
              // neither nothing nor everything: extraction and scoring see both kinds of reply.
              const more = yield* evaluateSystem(topology, {}, entry.task, entry.test.slice(0, 40), {
                concurrency: 8
              }).pipe(Effect.provide(systemLayer(config, entry.simulator)))
              expect(more.accuracy).toBeGreaterThan(0.2)
              expect(more.accuracy).toBeLessThan(0.95)
            }
          }),
        120_000
      )

  it.effect("the paper split draws the pool from the test items and says so", () =>
    Effect.gen(function* () {
      const entry = yield* openTask({ ...defaultRunConfig, task: "math500", split: { mode: "paper" } })
      expect(entry.split.mode).toBe("paper")
      const test = new Set(entry.split.testIds)
      expect(entry.split.poolIds.every((id) => test.has(id))).toBe(true)
      expect(entry.test.length).toBe(500)
    })
  )

  it.effect("an unknown task is an input error naming the known ones", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(openTask({ ...defaultRunConfig, task: "nope" }))
      expect(error.message).toContain("math500")
    })
  )
})
