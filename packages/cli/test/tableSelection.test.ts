import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { type ExperimentConfig, planCells } from "../src/experiment/config.ts"
import { type CellStatus, tableSelection } from "../src/experiment/tables.ts"

/** Which cells the tables use and what they report as left out, for any mix of cell statuses. */

const STATUSES: ReadonlyArray<CellStatus> = ["complete", "missing", "incomplete", "stale"]

const experiment = fc.record({
  tasks: fc.uniqueArray(fc.constantFrom("arith", "math500", "aqua"), { minLength: 1 }),
  topologies: fc.uniqueArray(fc.constantFrom("sequential", "hierarchical"), { minLength: 1 }),
  methods: fc.uniqueArray(fc.constantFrom("seed", "cot", "maspo", "gepa"), { minLength: 1 }),
  seeds: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 })
})

const rowOf = (c: { task: string; topology: string; method: string }) => `${c.task}/${c.topology}/${c.method}`

describe("tableSelection", () => {
  it("property: uses exactly the rows complete for every seed, and names every other cell and row", () => {
    fc.assert(
      fc.property(
        experiment.chain((e) => {
          const config = {
            name: "p",
            out: "out",
            tasks: e.tasks,
            topologies: e.topologies,
            methods: e.methods.map((name) => ({ name, kind: "seed" as const })),
            seeds: e.seeds
          } satisfies ExperimentConfig
          const plan = planCells(config)
          return fc.tuple(
            fc.constant(plan),
            fc.array(fc.constantFrom(...STATUSES), { minLength: plan.length, maxLength: plan.length })
          )
        }),
        ([plan, statuses]) => {
          const { use, leftOut } = tableSelection(plan, statuses)
          const flat = plan.map((c, i) => ({
            task: c.task,
            topology: c.topology,
            method: c.method.name,
            seed: c.seed,
            status: statuses[i]!
          }))
          const brokenRows = new Set(flat.filter((c) => c.status !== "complete").map(rowOf))
          // Every cell not complete is listed, in plan order, with its status.
          expect(leftOut.cells).toEqual(flat.filter((c) => c.status !== "complete"))
          // Exactly the rows with such a cell are left out, with their counts.
          expect(leftOut.rows.map(rowOf)).toEqual(
            [...new Set(flat.map(rowOf))].filter((r) => brokenRows.has(r))
          )
          for (const row of leftOut.rows) {
            const of = flat.filter((c) => rowOf(c) === rowOf(row))
            expect(row.seeds).toBe(of.length)
            expect(row.complete).toBe(of.filter((c) => c.status === "complete").length)
            expect(row.complete).toBeLessThan(row.seeds)
          }
          // The tables use every cell of every other row, and nothing else.
          expect(use).toEqual(plan.filter((c) => !brokenRows.has(rowOf({ ...c, method: c.method.name }))))
        }
      )
    )
  })
})
