import { Effect } from "effect"
import { statSync } from "node:fs"
import { resolve } from "node:path"
import type { InputError } from "../InputError.ts"
import { CacheError, type CallStore, openDatabaseUnsafe, type StoredAnswer } from "./CallStore.ts"
import { readExportAnswers } from "./transfer.ts"

/** True for a published export (`.jsonl.gz`) rather than a SQLite cache file. */
const isExportPath = (path: string): boolean => path.endsWith(".jsonl.gz")

/**
 * What identifies one state of a cache on disk: size, modification time and inode of the file and
 * of its WAL (writes land in the WAL first, so the main file alone can look unchanged).
 */
const stamp = (path: string): string =>
  [path, `${path}-wal`]
    .map((p) => {
      try {
        const s = statSync(p)
        return `${s.ino}:${s.size}:${s.mtimeMs}`
      } catch {
        return "-"
      }
    })
    .join("|")

const snapshots = new Map<string, { readonly stamp: string; readonly store: CallStore }>()

const readSqliteAnswers = (path: string): Map<string, StoredAnswer> => {
  // Opened as any store is (schema version checked), then read once and closed.
  const db = openDatabaseUnsafe(path, { mustExist: true })
  try {
    const rows = db
      .prepare<[], [string, string, number, number]>(
        "SELECT key, text, prompt_tokens, completion_tokens FROM calls"
      )
      .raw()
      .iterate()
    const answers = new Map<string, StoredAnswer>()
    for (const [key, text, promptTokens, completionTokens] of rows)
      answers.set(key, { text, usage: { promptTokens, completionTokens } })
    return answers
  } finally {
    db.close()
  }
}

const readOnly = (path: string) =>
  Effect.fail(
    new CacheError({ path, message: "a replay snapshot is read-only (replay mode never writes the cache)" })
  )

const snapshotStore = (path: string, answers: Map<string, StoredAnswer>): CallStore => ({
  path,
  // A replay never asks for the stored request; only `lookup` is on its path.
  get: () => readOnly(path),
  lookup: (key) => Effect.succeed(answers.get(key)),
  put: () => readOnly(path),
  overwrite: () => readOnly(path),
  recordDatasets: () => readOnly(path),
  count: Effect.sync(() => answers.size),
  close: Effect.void
})

/**
 * The answers of a cache held in memory, for `replay` mode: a SQLite cache file, or a published
 * export (`.jsonl.gz`, each line's key, text and usage decoded: see `readExportAnswers`) replayed
 * as it is. A replay reads and never writes, so one snapshot serves every run of the process that
 * replays the same unchanged file (the cells of an experiment): it is loaded once, and again only
 * when the file (or its WAL) changes. A hit is then a map lookup instead of a SQLite query.
 */
export const replaySnapshot = (path: string): Effect.Effect<CallStore, CacheError | InputError> =>
  Effect.suspend(() => {
    const id = resolve(path)
    const now = stamp(id)
    const known = snapshots.get(id)
    if (known !== undefined && known.stamp === now) return Effect.succeed(known.store)
    const load: Effect.Effect<Map<string, StoredAnswer>, CacheError | InputError> = isExportPath(path)
      ? readExportAnswers(path)
      : Effect.try({
          try: () => readSqliteAnswers(path),
          catch: (e) =>
            new CacheError({
              path,
              message: `cannot open call cache for replay: ${e instanceof Error ? e.message : String(e)}`
            })
        })
    return Effect.map(load, (answers) => {
      const store = snapshotStore(path, answers)
      snapshots.set(id, { stamp: now, store })
      return store
    })
  })
