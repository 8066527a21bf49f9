import { Effect, Result, Schema } from "effect"
import { compressionWordsFor, type Task, type TaskItem } from "@maspo/core"
import { extractCode, normalizeCode } from "./extract.ts"
import { humanEvalEtBuilder, mbppBuilder, type ProgramBuilder } from "./programs.ts"
import { defaultSandbox, type RunOptions, type Sandbox } from "./sandbox.ts"

/**
 * An item whose `meta` does not match its dataset's schema. Scoring dies with it (a defect, not a
 * score of 0): the loader built the item, so a bad meta is a programming error, not a wrong answer.
 */
export class CodeMetaError extends Schema.TaggedError<CodeMetaError>()("CodeMetaError", {
  dataset: Schema.String,
  itemId: Schema.String,
  message: Schema.String
}) {}

/**
 * The sandbox could not start a program at all (no interpreter, no temporary directory). Scoring dies
 * with it: counting such an item as a wrong answer would report 0% for a machine without Python.
 * Only runs that never started qualify, so nothing a solution prints or does can raise it.
 */
export class SandboxUnavailableError extends Schema.TaggedError<SandboxUnavailableError>()(
  "SandboxUnavailableError",
  {
    task: Schema.String,
    itemId: Schema.String,
    message: Schema.String
  }
) {}

export interface CodeTaskOptions {
  /** Where programs run. Default: the process-wide sandbox (`defaultSandbox()`). */
  readonly sandbox?: Sandbox
  /** Limits per run, over the builder's (`run`) and the sandbox defaults (5 s, 512 MB, 64 KiB of output). */
  readonly run?: RunOptions
}

/** Decodes an item's meta with the builder's schema, or dies with a `CodeMetaError` naming the item. */
export const decodeCodeMeta = <M>(builder: ProgramBuilder<M>, item: TaskItem): Effect.Effect<M> => {
  const decoded = Schema.decodeUnknownResult(builder.meta)(item.meta)
  return Result.isSuccess(decoded)
    ? Effect.succeed(decoded.success)
    : Effect.die(
        new CodeMetaError({
          dataset: builder.dataset,
          itemId: item.id,
          message: `item ${item.id} of ${builder.dataset} has a malformed meta: ${decoded.failure.message}`
        })
      )
}

/**
 * A code task: the reply's code (`extractCode`) is turned into a program by the builder and run in
 * the sandbox; the score is 1 iff the run's status is `passed`. Votes group code equal up to trailing
 * whitespace and blank lines.
 */
export const codeTask = <M>(
  name: string,
  builder: ProgramBuilder<M>,
  options: CodeTaskOptions = {}
): Task => ({
  name,
  kind: "code",
  compressionWords: compressionWordsFor("code"),
  extract: (reply) => {
    const code = extractCode(reply)
    return code.trim() === "" ? undefined : code
  },
  voteKey: normalizeCode,
  score: (item, reply) =>
    Effect.gen(function* () {
      const meta = yield* decodeCodeMeta(builder, item)
      const code = extractCode(reply)
      if (code.trim() === "") return 0
      const sandbox = options.sandbox ?? defaultSandbox()
      const result = yield* sandbox.runPython(builder.program(meta, code), { ...builder.run, ...options.run })
      if (result.status === "error" && result.exitCode === null && result.signal === null)
        return yield* Effect.die(
          new SandboxUnavailableError({
            task: name,
            itemId: item.id,
            message: `${name} item ${item.id}: the code sandbox could not run the program: ${result.stderr}`
          })
        )
      return result.status === "passed" ? 1 : 0
    }).pipe(Effect.withSpan("codeTask.score", { attributes: { task: name, item: item.id } }))
})

export const mbppTask = (options?: CodeTaskOptions): Task => codeTask("mbpp", mbppBuilder, options)
export const humanEvalEtTask = (options?: CodeTaskOptions): Task =>
  codeTask("humaneval-et", humanEvalEtBuilder, options)
