import { Cause, Console, Effect } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { describePlatformError } from "./files.ts"

/** One line a user can act on, for the typed errors a command can end with. */
export const describeError = (error: unknown): string => {
  if (typeof error === "object" && error !== null && "_tag" in error) {
    const e = error as {
      _tag: string
      message?: string
      source?: string
      role?: string
      path?: string
      cacheKey?: string
      flag?: string
    }
    switch (e._tag) {
      case "InputError":
        return `${e.source}: ${e.message}`
      case "LanguageModelError":
        return (
          `${e.role} model: ${e.message}` +
          (e.cacheKey && !e.message?.includes(e.cacheKey) ? ` [cache key ${e.cacheKey}]` : "")
        )
      case "CacheError":
        return `call cache ${e.path}: ${e.message}`
      case "FileError":
        return `${e.flag ? `${e.flag} ` : ""}${e.path}: ${e.message}`
      case "PlatformError":
        // Every file access of the CLI maps its failures to FileError; this is the safety net.
        return describePlatformError(error as PlatformError)
      default:
        return `${e._tag}: ${e.message ?? JSON.stringify(error)}`
    }
  }
  return String(error)
}

const isShowHelp = (e: unknown) =>
  typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "ShowHelp"

/** Prints a failed command's error as `error: ...` and exits with status 1 instead of a stack trace. */
export const reportErrors = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A | void, never, R> =>
  self.pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.interrupt
        : Effect.flatMap(
            // The CLI has already printed the help and the parse error for ShowHelp.
            isShowHelp(Cause.squash(cause))
              ? Effect.void
              : Console.error(`error: ${describeError(Cause.squash(cause))}`),
            () =>
              Effect.sync(() => {
                process.exitCode = 1
              })
          )
    )
  )
