import { assert, describe, it } from "@effect/vitest"
import { type BudgetReport, emptyTally } from "@maspo/core"
import { accuracyVsCallsPlot, type CellResult, renderTable, summarizeCells } from "@maspo/core/results"
import { Effect } from "effect"

/** Costs report what each cell used; the optimization's own figure (what a cap limits) is shown apart. */

const report = (agent: number, evaluator: number): BudgetReport => ({
  agent: { ...emptyTally, calls: agent, promptTokens: 10 * agent, completionTokens: agent },
  optimizer: emptyTally,
  evaluator: { ...emptyTally, calls: evaluator, promptTokens: 5 * evaluator, completionTokens: evaluator }
})

const cell = (method: string, seed: number, optimization?: BudgetReport): CellResult => ({
  task: "arith",
  topology: "chain",
  method,
  seed,
  testItemIds: ["a", "b", "c", "d"],
  scores: method === "seed" ? [1, 0, 0, 0] : [1, 1, 0, seed % 2],
  accuracy: method === "seed" ? 0.25 : seed % 2 === 1 ? 0.75 : 0.5,
  // The test evaluation: 40 agent calls (seed and optimized prompts each on 4 items, 5 calls each).
  budget:
    optimization === undefined
      ? report(20, 0)
      : {
          agent: { ...optimization.agent, calls: optimization.agent.calls + 40 },
          optimizer: optimization.optimizer,
          evaluator: optimization.evaluator
        },
  ...(optimization !== undefined ? { optimizationBudget: optimization } : {})
})

const cells = [
  cell("seed", 0),
  cell("seed", 1),
  cell("maspo", 0, report(2000, 900)),
  cell("maspo", 1, report(2100, 900))
]

describe("cost figures", () => {
  it.effect("the costs table shows the optimization's own calls and tokens next to the cell totals", () =>
    Effect.gen(function* () {
      const summary = yield* summarizeCells(cells, { seedMethod: "seed" })
      const csv = renderTable(summary, { format: "csv", kind: "costs" })
        .trim()
        .split(/\r?\n/)
        .map((l) => l.split(","))
      const header = csv[0]!
      const row = (method: string) => csv.find((r) => r.includes(method))!
      const col = (method: string, name: string) => row(method)[header.indexOf(name)]
      assert.strictEqual(col("maspo", "optimization calls"), "2950.0")
      assert.strictEqual(col("maspo", "optimization tokens"), String(2050 * 11 + 900 * 6))
      assert.strictEqual(col("maspo", "total calls"), "2990.0")
      assert.strictEqual(col("seed", "optimization calls"), "0.0")
      assert.strictEqual(col("seed", "total calls"), "20.0")
    })
  )

  it("the accuracy-vs-calls plot puts each method at its optimization's calls", () => {
    const svg = accuracyVsCallsPlot(cells, { topology: "chain" })
    assert.include(svg, "LLM calls of the optimization per seed")
    // Without the optimization's own figures the method would sit at its total calls instead.
    const totals = accuracyVsCallsPlot(
      cells.map(({ optimizationBudget: _o, ...c }) => c),
      { topology: "chain" }
    )
    assert.notStrictEqual(svg, totals)
  })
})
