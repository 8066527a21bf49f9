import { Clock, Effect } from "effect"
import { makePermits } from "./permits.ts"

/** One admitted use of a sliding-window budget. */
export interface WindowEntry {
  readonly at: number
  readonly cost: number
}

/**
 * How long to wait (ms) before `cost` more units fit in a window of `windowMs` holding at most
 * `limit`, given the admitted entries (oldest first). 0 means now. A cost larger than the whole
 * limit is admitted once the window is empty, so it cannot wait forever.
 */
export const windowWaitMs = (
  entries: ReadonlyArray<WindowEntry>,
  now: number,
  windowMs: number,
  limit: number,
  cost: number
): number => {
  const live = entries.filter((e) => e.at > now - windowMs)
  let used = live.reduce((n, e) => n + e.cost, 0)
  if (live.length === 0 || used + cost <= limit) return 0
  for (let i = 0; i < live.length; i++) {
    const e = live[i]!
    used -= e.cost
    // After e leaves the window (at e.at + windowMs), the entries after it remain.
    if (i === live.length - 1 || used + cost <= limit) return Math.max(0, e.at + windowMs - now)
  }
  return 0
}

export interface WindowLimiter {
  /** Waits until `cost` fits in the window, then records it. Callers are served in arrival order. */
  readonly take: (cost: number) => Effect.Effect<void>
}

/**
 * A sliding-window limiter (requests or tokens per minute). Time comes from Effect's Clock, so
 * tests may drive it with TestClock.
 */
export const makeWindowLimiter = (limit: number, windowMs = 60_000): Effect.Effect<WindowLimiter> =>
  Effect.gen(function* () {
    const lock = makePermits(1)
    let entries: Array<WindowEntry> = []
    const take = (cost: number): Effect.Effect<void> =>
      lock.withPermit(
        Effect.gen(function* () {
          while (true) {
            const now = yield* Clock.currentTimeMillis
            entries = entries.filter((e) => e.at > now - windowMs)
            const wait = windowWaitMs(entries, now, windowMs, limit, cost)
            if (wait === 0) {
              entries.push({ at: now, cost })
              return
            }
            yield* Effect.sleep(wait)
          }
        })
      )
    return { take }
  })
