import { Context, Effect, Layer, Option, Ref, Schema } from "effect"
import { type Role, ROLES } from "./Role.ts"
import type { Usage } from "./LanguageModel.ts"
import {
  admit,
  BudgetCap,
  type GateState,
  openGate,
  overshoot,
  release,
  type Spend
} from "./BudgetGate.ts"

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

export class BudgetExhausted extends Schema.TaggedError<BudgetExhausted>()("BudgetExhausted", {
  role: Schema.String,
  cap: BudgetCap,
  /** Calls and tokens used, and reserved by calls in flight, when this call was refused. */
  used: Schema.Struct({ calls: Schema.Number, tokens: Schema.Number }),
  reserved: Schema.Struct({ calls: Schema.Number, tokens: Schema.Number }),
  /** The refused call's upper bound of tokens. */
  requested: Schema.Number,
  message: Schema.String
}) {}

/** An admitted call's reservation, settled with its real usage (or released) when it ends. */
export interface Reservation {
  readonly role: Role
  readonly claim: Spend
}

/** What the gate knows about the cap in force, for reports. */
export interface CapStatus {
  readonly cap: BudgetCap
  /** True when a call was refused (or a call's real usage went past the cap). */
  readonly reached: boolean
  /** How far the used figures went past the cap: non-zero only if a provider reported more than its bound. */
  readonly overshoot: Spend
}

export const spentOf = (report: BudgetReport): Spend => {
  const t = totalTally(report)
  return { calls: t.calls, tokens: t.promptTokens + t.completionTokens }
}

interface BudgetState {
  readonly report: BudgetReport
  readonly cap: BudgetCap
  readonly gate: GateState
}

/**
 * Counts every LLM call, per role: live calls, cache hits and tokens; and, while a cap is in force
 * (`withCap`), admits a call only if it cannot take the run past the cap. `LanguageModel.generate`
 * reserves each call with an upper bound of its tokens before sending it and settles the reservation
 * with the real usage afterwards; state changes are single `Ref.modify`s, so concurrent calls cannot
 * race past the cap. Cache hits count like live calls: a cap means the same with and without a cache.
 */
export class Budget extends Context.Service<
  Budget,
  {
    /** Admits one call of `role` whose usage is at most `bound`, or fails with `BudgetExhausted`. */
    readonly reserve: (role: Role, bound: Usage) => Effect.Effect<Reservation, BudgetExhausted>
    /** Counts a completed call at its real usage and drops its reservation. */
    readonly settle: (reservation: Reservation, usage: Usage, cached: boolean) => Effect.Effect<void>
    /** Drops the reservation of a call that failed or was interrupted (it is not counted). */
    readonly release: (reservation: Reservation) => Effect.Effect<void>
    readonly report: Effect.Effect<BudgetReport>
    readonly restore: (report: BudgetReport) => Effect.Effect<void>
    /**
     * Runs `effect` with `cap` in force over the run's totals (restored ones included), and lifts it
     * afterwards. A cap reached stays reached until `withCap` returns.
     */
    readonly withCap: <A, E, R>(cap: BudgetCap, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    readonly capStatus: Effect.Effect<CapStatus>
  }
>()("@maspo/core/Budget") {
  static readonly layer = Layer.effect(
    Budget,
    Effect.gen(function* () {
      const ref = yield* Ref.make<BudgetState>({ report: emptyReport(), cap: {}, gate: openGate })
      const claimOf = (bound: Usage): Spend => ({
        calls: 1,
        tokens: Math.max(0, bound.promptTokens) + Math.max(0, bound.completionTokens)
      })
      const reserve = (role: Role, bound: Usage) =>
        Effect.flatMap(
          Ref.modify(ref, (s): readonly [BudgetExhausted | Reservation, BudgetState] => {
            const claim = claimOf(bound)
            const used = spentOf(s.report)
            const next = admit(s.gate, used, claim, s.cap)
            if (next.admitted) return [{ role, claim }, { ...s, gate: next.gate }]
            const refusal = new BudgetExhausted({
              role,
              cap: s.cap,
              used,
              reserved: s.gate.reserved,
              requested: claim.tokens,
              message:
                `budget cap reached: a ${role} call of up to ${claim.tokens} tokens could take ` +
                `${used.calls} calls / ${used.tokens} tokens used (+ ${s.gate.reserved.calls} calls / ` +
                `${s.gate.reserved.tokens} tokens in flight) past ${describeCap(s.cap)}`
            })
            return [refusal, { ...s, gate: next.gate }]
          }),
          (r) => (r instanceof BudgetExhausted ? Effect.fail(r) : Effect.succeed(r))
        )
      const settle = (reservation: Reservation, usage: Usage, cached: boolean) =>
        Ref.update(ref, (s) => {
          const report = {
            ...s.report,
            [reservation.role]: addTally(s.report[reservation.role], {
              calls: 1,
              liveCalls: cached ? 0 : 1,
              cacheHits: cached ? 1 : 0,
              promptTokens: usage.promptTokens,
              completionTokens: usage.completionTokens
            })
          }
          return { ...s, report, gate: release(s.gate, reservation.claim, spentOf(report), s.cap) }
        })
      const releaseOnly = (reservation: Reservation) =>
        Ref.update(ref, (s) => ({
          ...s,
          gate: release(s.gate, reservation.claim, spentOf(s.report), s.cap)
        }))
      const withCap = <A, E, R>(cap: BudgetCap, effect: Effect.Effect<A, E, R>) =>
        Effect.acquireUseRelease(
          Ref.modify(ref, (s) => [s.cap, { ...s, cap, gate: openGate }] as const),
          () => effect,
          (previous) => Ref.update(ref, (s) => ({ ...s, cap: previous, gate: openGate }))
        )
      return Budget.of({
        reserve,
        settle,
        release: releaseOnly,
        report: Effect.map(Ref.get(ref), (s) => s.report),
        restore: (report) => Ref.update(ref, (s) => ({ ...s, report })),
        withCap,
        capStatus: Effect.map(Ref.get(ref), (s) => {
          const over = overshoot(spentOf(s.report), s.cap)
          return {
            cap: s.cap,
            reached: s.gate.closed || over.calls > 0 || over.tokens > 0,
            overshoot: over
          }
        })
      })
    })
  )
}

export const describeCap = (cap: BudgetCap): string =>
  [
    cap.maxCalls !== undefined ? `${cap.maxCalls} calls` : undefined,
    cap.maxTokens !== undefined ? `${cap.maxTokens} tokens` : undefined
  ]
    .filter((x) => x !== undefined)
    .join(" / ") || "no cap"

/**
 * Runs one optimizer step under the cap in force: `Some(result)` when it completed, `None` when the
 * cap refused one of its calls. The step's unfinished work is discarded (its calls stay counted), so
 * a method stopped by the cap ends with the best result of its completed steps.
 */
export const completedStep = <A, E, R>(
  step: Effect.Effect<A, E | BudgetExhausted, R>
): Effect.Effect<Option.Option<A>, Exclude<E, BudgetExhausted>, R> =>
  step.pipe(
    Effect.map(Option.some),
    Effect.catchTag("BudgetExhausted", () => Effect.succeedNone)
  ) as Effect.Effect<Option.Option<A>, Exclude<E, BudgetExhausted>, R>
