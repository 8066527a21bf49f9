import { InputError } from "@maspo/core"
import { Effect, FileSystem, Path, Schema } from "effect"

/** Writes JSON (pretty, newline-terminated) creating parent directories. */
export const writeJson = Effect.fn("writeJson")(function* (file: string, value: unknown) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  yield* fs.makeDirectory(path.dirname(file), { recursive: true })
  yield* fs.writeFileString(file, `${JSON.stringify(value, null, 2)}\n`)
})

/** Writes one JSON value a line. */
export const writeJsonl = Effect.fn("writeJsonl")(function* (file: string, values: ReadonlyArray<unknown>) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  yield* fs.makeDirectory(path.dirname(file), { recursive: true })
  yield* fs.writeFileString(
    file,
    values.map((v) => JSON.stringify(v)).join("\n") + (values.length ? "\n" : "")
  )
})

export const readJson = Effect.fn("readJson")(function* (file: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(file)
  return yield* Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: (e) => new InputError({ source: file, message: `invalid JSON: ${(e as Error).message}` })
  })
})

/** Reads a JSON file and decodes it; a schema error names the file and the failing field path. */
export const readJsonAs = <S extends Schema.Top>(schema: S) =>
  Effect.fn("readJsonAs")(function* (file: string) {
    const raw = yield* readJson(file)
    return yield* Schema.decodeUnknownEffect(schema)(raw).pipe(
      Effect.mapError((e) => new InputError({ source: file, message: e.message }))
    )
  })
