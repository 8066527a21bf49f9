import { Context, Effect, Exit, Layer, Option, Schema } from "effect"
import { type Role, ROLES } from "./Role.ts"
import type { LMResponse, Usage } from "./LanguageModel.ts"
import {
  admit,
  BudgetCap,
  type GateState,
  isCapped,
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
 * runs each call through `call`, which reserves it with an upper bound of its tokens before it is
 * sent and settles the reservation with the real usage afterwards. Each check-and-reserve is one
 * synchronous step (JavaScript runs one fiber at a time), so concurrent calls cannot race past the
 * cap. Cache hits count like live calls: a cap means the same with and without a cache.
 */
export class Budget extends Context.Service<
  Budget,
  {
    /**
     * Runs one LLM call of `role`. With a cap in force: reserves `bound` first (failing with
     * `BudgetExhausted` when it could cross the cap), then counts the real usage and drops the
     * reservation, or just drops it if the call fails or is interrupted. Without a cap: counts it.
     */
    readonly call: <E>(
      role: Role,
      bound: Effect.Effect<Usage, E>,
      run: Effect.Effect<LMResponse, E>
    ) => Effect.Effect<LMResponse, E | BudgetExhausted>
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
    Effect.sync(() => {
      // Plain state changed only inside synchronous steps: a call's check and its reservation happen
      // with no other fiber in between (cheaper than a Ref on the path of every LLM call).
      let state: BudgetState = { report: emptyReport(), cap: {}, gate: openGate }
      const claimOf = (bound: Usage): Spend => ({
        calls: 1,
        tokens: Math.max(0, bound.promptTokens) + Math.max(0, bound.completionTokens)
      })
      const count = (role: Role, usage: Usage, cached: boolean): BudgetReport => ({
        ...state.report,
        [role]: addTally(state.report[role], {
          calls: 1,
          liveCalls: cached ? 0 : 1,
          cacheHits: cached ? 1 : 0,
          promptTokens: usage.promptTokens,
          completionTokens: usage.completionTokens
        })
      })
      const reserveNow = (role: Role, bound: Usage): BudgetExhausted | Reservation => {
        const claim = claimOf(bound)
        const used = spentOf(state.report)
        const next = admit(state.gate, used, claim, state.cap)
        const refusal = next.admitted
          ? undefined
          : new BudgetExhausted({
              role,
              cap: state.cap,
              used,
              reserved: state.gate.reserved,
              requested: claim.tokens,
              message:
                `budget cap reached: a ${role} call of up to ${claim.tokens} tokens could take ` +
                `${used.calls} calls / ${used.tokens} tokens used (+ ${state.gate.reserved.calls} calls / ` +
                `${state.gate.reserved.tokens} tokens in flight) past ${describeCap(state.cap)}`
            })
        state = { ...state, gate: next.gate }
        return refusal ?? { role, claim }
      }
      const settleNow = (reservation: Reservation, usage: Usage, cached: boolean) => {
        const report = count(reservation.role, usage, cached)
        state = { ...state, report, gate: release(state.gate, reservation.claim, spentOf(report), state.cap) }
      }
      const releaseNow = (reservation: Reservation) => {
        state = { ...state, gate: release(state.gate, reservation.claim, spentOf(state.report), state.cap) }
      }
      const call = <E>(role: Role, bound: Effect.Effect<Usage, E>, run: Effect.Effect<LMResponse, E>) =>
        Effect.suspend((): Effect.Effect<LMResponse, E | BudgetExhausted> => {
          if (!isCapped(state.cap))
            return Effect.tap(run, (response) =>
              Effect.sync(() => {
                state = { ...state, report: count(role, response.usage, response.cached === true) }
              })
            )
          return Effect.flatMap(bound, (b) =>
            Effect.uninterruptibleMask((restore): Effect.Effect<LMResponse, E | BudgetExhausted> => {
              const reservation = reserveNow(role, b)
              if (reservation instanceof BudgetExhausted) return Effect.fail(reservation)
              return restore(run).pipe(
                Effect.onExit((exit) =>
                  Effect.sync(() =>
                    Exit.isSuccess(exit)
                      ? settleNow(reservation, exit.value.usage, exit.value.cached === true)
                      : releaseNow(reservation)
                  )
                )
              )
            })
          )
        })
      const withCap = <A, E, R>(cap: BudgetCap, effect: Effect.Effect<A, E, R>) =>
        Effect.acquireUseRelease(
          Effect.sync(() => {
            const previous = state.cap
            state = { ...state, cap, gate: openGate }
            return previous
          }),
          () => effect,
          (previous) =>
            Effect.sync(() => {
              state = { ...state, cap: previous, gate: openGate }
            })
        )
      return Budget.of({
        call,
        reserve: (role, bound) =>
          Effect.suspend(() => {
            const r = reserveNow(role, bound)
            return r instanceof BudgetExhausted ? Effect.fail(r) : Effect.succeed(r)
          }),
        settle: (reservation, usage, cached) => Effect.sync(() => settleNow(reservation, usage, cached)),
        release: (reservation) => Effect.sync(() => releaseNow(reservation)),
        report: Effect.sync(() => state.report),
        restore: (report) =>
          Effect.sync(() => {
            state = { ...state, report }
          }),
        withCap,
        capStatus: Effect.sync(() => {
          const over = overshoot(spentOf(state.report), state.cap)
          return {
            cap: state.cap,
            reached: state.gate.closed || over.calls > 0 || over.tokens > 0,
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
