import { Effect, FileSystem, Option, Path, Schema } from "effect"
import type { PlatformError } from "effect/PlatformError"

/**
 * A file or directory the CLI could not read, create or write. `path` is the path as the user gave it
 * (or as the command built it), `flag` the option that named it, when one did; the message says what
 * was attempted and why it failed, e.g. "cannot create the directory: /tmp/a is a file, not a directory".
 */
export class FileError extends Schema.TaggedError<FileError>()("FileError", {
  path: Schema.String,
  message: Schema.String,
  flag: Schema.optional(Schema.String)
}) {}

/** The error code of the failed system call (ENOENT, EACCES, ...), when the platform kept it. */
export const errnoCode = (error: PlatformError): string | undefined => {
  const cause = error.reason.cause ?? (error as { cause?: unknown }).cause
  return typeof cause === "object" && cause !== null && typeof (cause as { code?: unknown }).code === "string"
    ? (cause as { code: string }).code
    : undefined
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOTDIR: "a part of the path is a file, not a directory",
  EISDIR: "it is a directory, not a file",
  EEXIST: "it already exists",
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many levels of symbolic links",
  EBUSY: "the resource is busy",
  EIO: "input/output error",
  EXDEV: "source and target are on different file systems"
}

/** What went wrong, in words: "permission denied", "no such file or directory", ... */
export const failureReason = (error: PlatformError): string => {
  const code = errnoCode(error)
  if (code !== undefined) return REASONS[code] ?? code
  return error.reason._tag === "BadArgument"
    ? (error.reason.description ?? "bad argument")
    : error.reason._tag.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()
}

/** One line for a platform error that reached the top unmapped: the operation, the path, the reason. */
export const describePlatformError = (error: PlatformError): string => {
  const reason = error.reason
  const where = reason._tag === "BadArgument" ? undefined : reason.pathOrDescriptor
  return `${where !== undefined ? `${where}: ` : ""}${reason.method} failed: ${failureReason(error)}`
}

const fileError = (path: string, what: string, flag?: string) => (error: PlatformError) =>
  new FileError({ path, message: `${what}: ${failureReason(error)}`, ...(flag ? { flag } : {}) })

const isAbsent = (error: PlatformError) => {
  const code = errnoCode(error)
  return code === "ENOENT" || code === "ENOTDIR"
}

/**
 * Creates a directory and its missing parents. Walks up to the nearest existing ancestor and creates
 * each level without `recursive`: Node 20's recursive mkdir never returns under /proc (it retries the
 * ENOENT forever), and walking names the ancestor that is a file when that is what stands in the way.
 */
export const ensureDirectory = Effect.fn("ensureDirectory")(function* (dir: string, flag?: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const fail = (message: string) => new FileError({ path: dir, message, ...(flag ? { flag } : {}) })
  const missing: Array<string> = []
  let current = path.resolve(dir)
  for (;;) {
    const info = yield* fs.stat(current).pipe(
      Effect.map(Option.some),
      Effect.catchTag("PlatformError", (e) =>
        isAbsent(e)
          ? Effect.succeed(Option.none<FileSystem.File.Info>())
          : Effect.fail(fileError(dir, `cannot inspect ${current}`, flag)(e))
      )
    )
    if (Option.isSome(info)) {
      if (info.value.type !== "Directory")
        return yield* fail(
          current === path.resolve(dir)
            ? "cannot use as a directory: it is a file"
            : `cannot create the directory: ${current} is a file, not a directory`
        )
      break
    }
    missing.push(current)
    const parent = path.dirname(current)
    if (parent === current) break
    current = parent
  }
  for (const level of missing.reverse())
    yield* fs.makeDirectory(level).pipe(
      Effect.catchTag("PlatformError", (e) =>
        // Another cell or process may have created it in the meantime.
        errnoCode(e) === "EEXIST"
          ? Effect.void
          : Effect.fail(
              fail(
                `cannot create the directory${level === path.resolve(dir) ? "" : ` ${level}`}: ${
                  // Its parent exists (we just checked or made it): the file system refuses entries there (/proc).
                  errnoCode(e) === "ENOENT"
                    ? "the file system does not allow new entries there"
                    : failureReason(e)
                }`
              )
            )
      )
    )
})

/**
 * Fails unless files can be created in `dir` (made if missing): a command checks its output folder
 * this way before making any LLM call, so an unwritable folder costs nothing.
 */
export const ensureWritableDirectory = Effect.fn("ensureWritableDirectory")(function* (
  dir: string,
  flag?: string
) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  yield* ensureDirectory(dir, flag)
  const probe = path.join(dir, `.maspo-write-check-${process.pid}`)
  yield* fs
    .writeFileString(probe, "")
    .pipe(Effect.mapError(fileError(dir, "cannot write in the directory", flag)))
  yield* fs
    .remove(probe)
    .pipe(Effect.mapError(fileError(dir, "cannot remove a file from the directory", flag)))
})

/** Writes a text file, creating its directory first. */
export const writeTextFile = Effect.fn("writeTextFile")(function* (file: string, text: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  yield* ensureDirectory(path.dirname(file))
  yield* fs.writeFileString(file, text).pipe(Effect.mapError(fileError(file, "cannot write")))
})

/** Reads a text file; `flag` names the option that gave the path. */
export const readTextFile = Effect.fn("readTextFile")(function* (file: string, flag?: string) {
  const fs = yield* FileSystem.FileSystem
  return yield* fs.readFileString(file).pipe(Effect.mapError(fileError(file, "cannot read", flag)))
})

/** Renames a file (how checkpoints and manifests are replaced atomically). */
export const renameFile = Effect.fn("renameFile")(function* (from: string, to: string) {
  const fs = yield* FileSystem.FileSystem
  yield* fs.rename(from, to).pipe(Effect.mapError(fileError(to, `cannot rename ${from} to it`)))
})

/** Whether a path exists; a failure other than absence (permission denied on a parent) is an error. */
export const pathExists = Effect.fn("pathExists")(function* (file: string, flag?: string) {
  const fs = yield* FileSystem.FileSystem
  return yield* fs.stat(file).pipe(
    Effect.as(true),
    Effect.catchTag("PlatformError", (e) =>
      isAbsent(e) ? Effect.succeed(false) : Effect.fail(fileError(file, "cannot inspect", flag)(e))
    )
  )
})

/**
 * Makes the folder of a call cache that will be written, before the cache opens it: the cache's own
 * recursive mkdir never returns under /proc, and this names the path that is in the way.
 */
export const ensureCacheDirectory = Effect.fn("ensureCacheDirectory")(function* (cache: {
  readonly path: string
  readonly mode: string
}) {
  if (cache.mode === "off" || cache.mode === "replay") return
  const path = yield* Path.Path
  yield* ensureDirectory(path.dirname(cache.path), "--cache")
})
