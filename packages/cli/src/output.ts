import { InputError } from "@maspo/core"
import { Effect, Schema } from "effect"
import { readTextFile, writeTextFile } from "./files.ts"

/** Writes JSON (pretty, newline-terminated) creating parent directories. */
export const writeJson = Effect.fn("writeJson")(function* (file: string, value: unknown) {
  yield* writeTextFile(file, `${JSON.stringify(value, null, 2)}\n`)
})

/** Writes one JSON value a line. */
export const writeJsonl = Effect.fn("writeJsonl")(function* (file: string, values: ReadonlyArray<unknown>) {
  yield* writeTextFile(file, values.map((v) => JSON.stringify(v)).join("\n") + (values.length ? "\n" : ""))
})

/** Reads a JSON file; `flag` names the option that gave the path, for the error when it cannot be read. */
export const readJson = Effect.fn("readJson")(function* (file: string, flag?: string) {
  const text = yield* readTextFile(file, flag)
  return yield* Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => new InputError({ source: file, message: `invalid JSON: ${(e as Error).message}` })
  })
})

/** Reads a JSON file and decodes it; a schema error names the file and the failing field path. */
export const readJsonAs = <S extends Schema.Top>(schema: S) =>
  Effect.fn("readJsonAs")(function* (file: string, flag?: string) {
    const raw = yield* readJson(file, flag)
    return yield* Schema.decodeUnknownEffect(schema)(raw).pipe(
      Effect.mapError((e) => new InputError({ source: file, message: e.message }))
    )
  })
