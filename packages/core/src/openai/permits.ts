import { Effect } from "effect"

/**
 * A counting semaphore that serves waiters first come, first served, at a constant cost a take and
 * a release. Effect's `Semaphore` wakes waiters by scanning a copy of the whole waiting set on every
 * release: with a few thousand calls queued behind a provider's concurrency limit (one MASPO batch
 * can queue that many), the scans cost more CPU than the HTTP calls and cut throughput.
 */
export interface Permits {
  /** Runs `effect` holding one permit; waits in arrival order while none is free. */
  readonly withPermit: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Permits free now. */
  readonly available: () => number
  /** Fibers waiting now. */
  readonly waiting: () => number
}

interface Waiter {
  readonly resume: () => void
  /** Handed a permit by a release (it may not have run yet). */
  granted: boolean
  /** Interrupted while waiting: skipped by releases. */
  cancelled: boolean
}

/** `n` permits (at least one). */
export const makePermits = (n: number): Permits => {
  let free = Math.max(1, Math.floor(n))
  // A FIFO queue: an array read from a moving head, compacted once half of it is consumed.
  let queue: Array<Waiter | undefined> = []
  let head = 0
  let waiting = 0

  const release = () => {
    while (head < queue.length) {
      const w = queue[head]!
      queue[head++] = undefined
      if (head >= 1024 && head * 2 >= queue.length) {
        queue = queue.slice(head)
        head = 0
      }
      if (w.cancelled) continue
      waiting--
      // The permit passes straight to the waiter: no other fiber can overtake it.
      w.granted = true
      w.resume()
      return
    }
    free++
  }

  const acquire = Effect.callback<void>((resume) => {
    if (free > 0) {
      free--
      resume(Effect.void)
      return
    }
    const w: Waiter = { resume: () => resume(Effect.void), granted: false, cancelled: false }
    queue.push(w)
    waiting++
    // Interrupted while waiting: leave the queue, or pass on a permit handed over meanwhile.
    return Effect.sync(() => {
      if (w.granted) release()
      else if (!w.cancelled) {
        w.cancelled = true
        waiting--
      }
    })
  })

  const withPermit = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.andThen(restore(acquire), restore(effect).pipe(Effect.ensuring(Effect.sync(release))))
    )

  return { withPermit, available: () => free, waiting: () => waiting }
}
