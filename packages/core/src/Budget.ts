import { Context, Effect, Layer, Ref, Schema } from "effect"
import { type Role, ROLES } from "./Role.ts"
import type { Usage } from "./LanguageModel.ts"

export const RoleTally = Schema.Struct({
  calls: Schema.Number,
  liveCalls: Schema.Number,
  cacheHits: Schema.Number,
  promptTokens: Schema.Number,
  completionTokens: Schema.Number
})
export type RoleTally = typeof RoleTally.Type

export const BudgetReport = Schema.Struct({
  agent: RoleTally,
  optimizer: RoleTally,
  evaluator: RoleTally
})
export type BudgetReport = typeof BudgetReport.Type

export const emptyTally: RoleTally = {
  calls: 0,
  liveCalls: 0,
  cacheHits: 0,
  promptTokens: 0,
  completionTokens: 0
}

export const emptyReport = (): BudgetReport => ({
  agent: emptyTally,
  optimizer: emptyTally,
  evaluator: emptyTally
})

export const addTally = (a: RoleTally, b: RoleTally): RoleTally => ({
  calls: a.calls + b.calls,
  liveCalls: a.liveCalls + b.liveCalls,
  cacheHits: a.cacheHits + b.cacheHits,
  promptTokens: a.promptTokens + b.promptTokens,
  completionTokens: a.completionTokens + b.completionTokens
})

export const totalTally = (report: BudgetReport): RoleTally =>
  ROLES.reduce((acc, role) => addTally(acc, report[role]), emptyTally)

export const addReports = (a: BudgetReport, b: BudgetReport): BudgetReport => ({
  agent: addTally(a.agent, b.agent),
  optimizer: addTally(a.optimizer, b.optimizer),
  evaluator: addTally(a.evaluator, b.evaluator)
})

export const formatBudget = (report: BudgetReport): string => {
  const rows = [...ROLES.map((r) => [r, report[r]] as const), ["total", totalTally(report)] as const]
  const lines = rows.map(
    ([name, t]) =>
      `  ${name.padEnd(10)} calls ${String(t.calls).padStart(7)}  live ${String(t.liveCalls).padStart(7)}  ` +
      `cache hits ${String(t.cacheHits).padStart(7)}  tokens in ${String(t.promptTokens).padStart(9)}  ` +
      `out ${String(t.completionTokens).padStart(8)}`
  )
  return ["budget:", ...lines].join("\n")
}

/** Counts every LLM call, per role: live calls, cache hits and tokens. */
export class Budget extends Context.Service<
  Budget,
  {
    readonly record: (role: Role, usage: Usage, cached: boolean) => Effect.Effect<void>
    readonly report: Effect.Effect<BudgetReport>
    readonly restore: (report: BudgetReport) => Effect.Effect<void>
  }
>()("@maspo/core/Budget") {
  static readonly layer = Layer.effect(
    Budget,
    Effect.gen(function* () {
      const ref = yield* Ref.make(emptyReport())
      const record = (role: Role, usage: Usage, cached: boolean) =>
        Ref.update(ref, (r) => ({
          ...r,
          [role]: addTally(r[role], {
            calls: 1,
            liveCalls: cached ? 0 : 1,
            cacheHits: cached ? 1 : 0,
            promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens
          })
        }))
      return Budget.of({ record, report: Ref.get(ref), restore: (report) => Ref.set(ref, report) })
    })
  )
}
