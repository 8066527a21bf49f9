import { InputError, type TaskItem } from "@maspo/core"
import { Effect, type Schema } from "effect"
import { createHash } from "node:crypto"
import { readFile } from "node:fs/promises"
import * as path from "node:path"
import { resolveDataDir } from "./dataDir.ts"
import { DATASETS, type DatasetFile, type DatasetName, isDatasetName, type Origin } from "./descriptors.ts"
import { decodeLines } from "./jsonl.ts"
import { AgievalMathRow, AquaRow, GpqaRow, HumanEvalEtRow, Math500Row, MbppRow } from "./schemas.ts"

export const sha256Hex = (data: Uint8Array | string): string =>
  createHash("sha256").update(data).digest("hex")

/** Reads one dataset file; a missing file is an InputError whose source is its path relative to the data directory. */
const readDatasetFile = (dataDir: string, file: DatasetFile) => {
  const full = path.join(dataDir, file.path)
  return Effect.tryPromise({
    try: () => readFile(full),
    catch: (e) =>
      new InputError({
        source: file.path,
        message: `cannot read ${full} (data directory ${dataDir}; set MASPO_DATA_DIR to point elsewhere): ${(e as Error).message}`
      })
  })
}

const mismatch = (file: DatasetFile, actual: string) =>
  `sha256 mismatch for ${file.path}: expected ${file.sha256}, actual ${actual}`

/**
 * Reads one dataset file and checks its pinned sha256. A missing file or a hash mismatch is an
 * InputError whose source is the file's path relative to the data directory.
 */
export const readVerified = Effect.fn("readVerified")(function* (dataDir: string, file: DatasetFile) {
  const bytes = yield* readDatasetFile(dataDir, file)
  const actual = sha256Hex(bytes)
  if (actual !== file.sha256)
    return yield* new InputError({ source: file.path, message: mismatch(file, actual) })
  return bytes.toString("utf8")
})

/** Which file an item came from ("val" only for AQuA's validation file). */
export const itemOrigin = (item: TaskItem): Origin => (item.meta?.["split"] === "val" ? "val" : "test")

/** The tested function of an MBPP reference solution: the first `def` the tests call, else the first `def`. */
export const mbppEntryPoint = (code: string, tests: ReadonlyArray<string>): string | undefined => {
  const defs = [...code.matchAll(/^def\s+([A-Za-z_]\w*)\s*\(/gm)].map((m) => m[1]!)
  const called = defs.find((name) => tests.some((t) => new RegExp(`\\b${name}\\s*\\(`).test(t)))
  return called ?? defs[0]
}

const decodeFile = <S extends Schema.ConstraintDecoder<unknown>>(
  dataDir: string,
  file: DatasetFile,
  schema: S
): Effect.Effect<ReadonlyArray<S["Type"]>, InputError> =>
  Effect.gen(function* () {
    const bytes = yield* readDatasetFile(dataDir, file)
    const actual = sha256Hex(bytes)
    // Decoded before the hash is compared: when one broken line is why the hash differs, the error
    // names that line and field rather than only two hashes.
    const rows = yield* decodeLines(file.path, bytes.toString("utf8"), schema).pipe(
      Effect.mapError((e) =>
        actual === file.sha256
          ? e
          : new InputError({ source: e.source, message: `${e.message} (and ${mismatch(file, actual)})` })
      )
    )
    if (actual !== file.sha256)
      return yield* new InputError({ source: file.path, message: mismatch(file, actual) })
    return rows
  })

const itemsOf = (
  name: DatasetName,
  dataDir: string,
  file: DatasetFile
): Effect.Effect<ReadonlyArray<TaskItem>, InputError> => {
  const split = file.origin
  switch (name) {
    case "math500":
      return decodeFile(dataDir, file, Math500Row).pipe(
        Effect.map((rows) =>
          rows.map((r) => ({
            id: `math500/${r.unique_id}`,
            question: r.problem,
            gold: r.answer,
            meta: { split, subject: r.subject, level: r.level }
          }))
        )
      )
    case "agieval-math":
      return decodeFile(dataDir, file, AgievalMathRow).pipe(
        Effect.map((rows) =>
          rows.map((r, i) => ({
            id: `agieval-math/${i}`,
            question: r.problem,
            gold: r.answer,
            meta: { split, level: r.level, type: r.type }
          }))
        )
      )
    case "aqua":
      return decodeFile(dataDir, file, AquaRow).pipe(
        Effect.map((rows) =>
          rows.map((r, i) => ({
            id: `aqua/${split}/${i}`,
            question: `${r.question}\n${r.options.join("\n")}`,
            gold: r.correct,
            meta: { split, options: r.options, letters: "ABCDE" }
          }))
        )
      )
    case "gpqa":
      // GPQA question text must stay out of anything published: publish ids and scores only.
      return decodeFile(dataDir, file, GpqaRow).pipe(
        Effect.map((rows) =>
          rows.map((r, i) => ({
            id: `gpqa/${i}`,
            question: r.question,
            gold: r.answer,
            meta: { split, letters: "ABCD" }
          }))
        )
      )
    case "mbpp":
      return decodeFile(dataDir, file, MbppRow).pipe(
        Effect.map((rows) =>
          rows.map((r) => {
            const entryPoint = mbppEntryPoint(r.code, r.test_list)
            const first = r.test_list[0]
            return {
              id: `mbpp/${r.task_id}`,
              question:
                first === undefined ? r.prompt : `${r.prompt}\nYour code should pass these tests:\n${first}`,
              gold: r.code,
              meta: {
                split,
                testImports: r.test_imports,
                tests: r.test_list,
                ...(entryPoint !== undefined ? { entryPoint } : {})
              }
            }
          })
        )
      )
    case "humaneval-et":
      return decodeFile(dataDir, file, HumanEvalEtRow).pipe(
        Effect.map((rows) =>
          rows.map((r) => ({
            id: `humaneval-et/${r.task_id.replace(/^HumanEval\//, "")}`,
            question: r.prompt,
            gold: r.prompt + r.canonical_solution,
            meta: { split, entryPoint: r.entry_point, test: r.test, tests: r.test_list, prompt: r.prompt }
          }))
        )
      )
  }
}

/**
 * All items of a dataset, every file of it in descriptor order (AQuA: test items, then val items),
 * each file checked against its pinned sha256 first. `dataDir` defaults as in `resolveDataDir`.
 * Every item's `meta.split` says which file it came from (see `itemOrigin`).
 */
export const loadDataset = (
  name: string,
  dataDir?: string
): Effect.Effect<ReadonlyArray<TaskItem>, InputError> =>
  Effect.gen(function* () {
    if (!isDatasetName(name))
      return yield* new InputError({
        source: "dataset",
        message: `unknown dataset '${name}'; known: ${Object.keys(DATASETS).join(", ")}`
      })
    const dir = resolveDataDir(dataDir)
    const parts = yield* Effect.forEach(DATASETS[name].files, (file) => itemsOf(name, dir, file))
    return parts.flat()
  }).pipe(Effect.withSpan("loadDataset"))

/**
 * The question texts of a dataset whose text must not be republished (`withholdText`), every item
 * of every file, as the tasks put them into prompts: what an export for publishing withholds.
 */
export const protectedTexts = (
  name: DatasetName,
  dataDir?: string
): Effect.Effect<{ readonly dataset: string; readonly texts: ReadonlyArray<string> }, InputError> =>
  Effect.map(loadDataset(name, dataDir), (items) => ({ dataset: name, texts: items.map((i) => i.question) }))
