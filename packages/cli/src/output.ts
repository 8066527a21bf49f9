import { InputError } from "@maspo/core"
import { Effect, type Schema } from "effect"
import { decodeStrict, fileLine, problemsError, syntaxErrorLine } from "./configProblems.ts"
import { readTextFile, writeTextFile } from "./files.ts"

/** Writes JSON (pretty, newline-terminated) creating parent directories. */
export const writeJson = Effect.fn("writeJson")(function* (file: string, value: unknown) {
  yield* writeTextFile(file, `${JSON.stringify(value, null, 2)}\n`)
})

/** Writes one JSON value a line. */
export const writeJsonl = Effect.fn("writeJsonl")(function* (file: string, values: ReadonlyArray<unknown>) {
  yield* writeTextFile(file, values.map((v) => JSON.stringify(v)).join("\n") + (values.length ? "\n" : ""))
})

/**
 * The file's text and its JSON value; a syntax error names the line it is on. `flag` names the option
 * that gave the path, for the error when it cannot be read.
 */
const readJsonText = Effect.fn("readJsonText")(function* (file: string, flag?: string) {
  const text = yield* readTextFile(file, flag)
  return yield* Effect.try({
    try: () => ({ text, raw: JSON.parse(text) as unknown }),
    catch: (e) => {
      const line = syntaxErrorLine(text)
      return new InputError({
        source: line === undefined ? file : `${file}:${line}`,
        message: `invalid JSON: ${(e as Error).message}`
      })
    }
  })
})

export const readJson = Effect.fn("readJson")(function* (file: string, flag?: string) {
  return (yield* readJsonText(file, flag)).raw
})

export interface ReadJsonOptions {
  /**
   * `error` (default): a field the schema does not know is an error, with a "did you mean". `ignore`:
   * read only the fields the schema names, for partial reads of files this program wrote itself.
   */
  readonly excess?: "error" | "ignore"
  /** The option that gave the path (`--prompts`), named when the file cannot be read. */
  readonly flag?: string
}

/**
 * Reads a JSON file and decodes it, keeping where each field is (`where(path)` is `file:line`) for
 * checks made after decoding. Every problem is reported as `file:line: field.path: message`, an
 * unknown field with the closest known name.
 */
export const readJsonLocated = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  options: ReadJsonOptions = {}
) =>
  Effect.fn("readJsonLocated")(function* (file: string) {
    const { text, raw } = yield* readJsonText(file, options.flag)
    const where = fileLine(file, text)
    const decoded = decodeStrict(schema, raw, options.excess ?? "error")
    if ("problems" in decoded) return yield* problemsError(decoded.problems, where)
    return { value: decoded.value as S["Type"], where }
  })

/** Reads a JSON file and decodes it (see `readJsonLocated`). */
export const readJsonAs = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  options: ReadJsonOptions = {}
) =>
  Effect.fn("readJsonAs")(function* (file: string) {
    return (yield* readJsonLocated(schema, options)(file)).value
  })
