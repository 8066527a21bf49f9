import Database from "better-sqlite3"
import { Effect, Schema } from "effect"
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import type { LMResponse } from "../LanguageModel.ts"
import { canonicalJson } from "../canonical.ts"
import { type CacheKeyInput, canonicalRequest } from "./key.ts"

/** Version of the on-disk layout, kept in the `meta` table. */
export const CACHE_SCHEMA_VERSION = 1

/** The cache file could not be opened, read or written. */
export class CacheError extends Schema.TaggedError<CacheError>()("CacheError", {
  path: Schema.String,
  message: Schema.String
}) {}

/** One stored answer. `request` is the canonical JSON of the key input. */
export interface StoredCall {
  readonly key: string
  readonly provider: string
  readonly model: string
  readonly request: string
  readonly text: string
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number }
  readonly createdAt: string
}

export interface StoredAnswer {
  readonly text: string
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number }
}

/**
 * A SQLite file of LLM answers keyed by `cacheKey`. WAL mode; every put is its own committed
 * transaction, so a killed process loses at most the put in progress and never corrupts the file.
 */
export interface CallStore {
  readonly path: string
  readonly get: (key: string) => Effect.Effect<StoredCall | undefined, CacheError>
  /** The answer alone (text and usage): what a cache hit needs, without reading the stored request. */
  readonly lookup: (key: string) => Effect.Effect<StoredAnswer | undefined, CacheError>
  /** INSERT OR IGNORE: the first recorded answer wins, so replays are stable. True when inserted. */
  readonly put: (
    key: string,
    input: CacheKeyInput,
    response: LMResponse
  ) => Effect.Effect<boolean, CacheError>
  /** INSERT OR REPLACE (the `record-fresh` mode). */
  readonly overwrite: (
    key: string,
    input: CacheKeyInput,
    response: LMResponse
  ) => Effect.Effect<void, CacheError>
  readonly count: Effect.Effect<number, CacheError>
  /**
   * Records that calls about items of these datasets go through this store (a `meta` row each), so
   * an export for publishing knows which protected datasets' texts it must look for.
   */
  readonly recordDatasets: (names: ReadonlyArray<string>) => Effect.Effect<void, CacheError>
  /** Idempotent. */
  readonly close: Effect.Effect<void>
}

export interface OpenOptions {
  /** Fail instead of creating a new cache file. */
  readonly mustExist?: boolean
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
  key TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  request TEXT NOT NULL,
  text TEXT NOT NULL,
  prompt_tokens INT NOT NULL,
  completion_tokens INT NOT NULL,
  created_at TEXT NOT NULL
);
`

const INSERT_COLUMNS =
  "INTO calls (key, provider, model, request, text, prompt_tokens, completion_tokens, created_at) " +
  "VALUES (@key, @provider, @model, @request, @text, @prompt_tokens, @completion_tokens, @created_at)"
export const INSERT_OR_IGNORE_SQL = `INSERT OR IGNORE ${INSERT_COLUMNS}`
export const INSERT_OR_REPLACE_SQL = `INSERT OR REPLACE ${INSERT_COLUMNS}`

interface Row {
  readonly key: string
  readonly provider: string
  readonly model: string
  readonly request: string
  readonly text: string
  readonly prompt_tokens: number
  readonly completion_tokens: number
  readonly created_at: string
}

export const rowToStoredCall = (row: Row): StoredCall => ({
  key: row.key,
  provider: row.provider,
  model: row.model,
  request: row.request,
  text: row.text,
  usage: { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens },
  createdAt: row.created_at
})

export const rowParams = (
  key: string,
  input: CacheKeyInput,
  text: string,
  usage: { readonly promptTokens: number; readonly completionTokens: number }
) => ({
  key,
  provider: input.provider,
  model: input.model,
  request: canonicalRequest(input),
  text,
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  created_at: new Date().toISOString()
})

/**
 * The stored `request` of an entry imported from an export that withheld it (it quoted protected
 * text): only its key and the dataset it quoted are known.
 */
export const withheldRequest = (dataset: string): string => canonicalJson({ withheld: dataset })

/** The dataset a stored request was withheld for, or undefined for a full request. */
export const withheldDataset = (request: unknown): string | undefined =>
  typeof request === "object" &&
  request !== null &&
  !("v" in request) &&
  typeof (request as { withheld?: unknown }).withheld === "string"
    ? (request as { withheld: string }).withheld
    : undefined

export const withheldRowParams = (
  key: string,
  provider: string,
  model: string,
  dataset: string,
  text: string,
  usage: { readonly promptTokens: number; readonly completionTokens: number }
) => ({
  key,
  provider,
  model,
  request: withheldRequest(dataset),
  text,
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  created_at: new Date().toISOString()
})

/** The `meta` key recording that calls about a dataset's items went through a store. */
export const datasetMetaKey = (name: string) => `dataset:${name}`

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e))

/**
 * Opens (or creates, with its parent directory) the SQLite file at `path` and makes sure the schema
 * is there. Synchronous; throws on failure. Internal: use `openCallStore`.
 */
export const openDatabaseUnsafe = (path: string, options: OpenOptions = {}): Database.Database => {
  if (!options.mustExist) mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { fileMustExist: options.mustExist === true })
  try {
    db.pragma("busy_timeout = 10000")
    db.pragma("journal_mode = WAL")
    db.pragma("synchronous = NORMAL")
    db.transaction(() => {
      db.exec(SCHEMA)
      db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)").run(
        String(CACHE_SCHEMA_VERSION)
      )
    }).immediate()
    const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()
    if (version !== String(CACHE_SCHEMA_VERSION)) {
      throw new Error(
        `unsupported cache schema version ${String(version)} (this build reads version ${CACHE_SCHEMA_VERSION})`
      )
    }
    return db
  } catch (e) {
    db.close()
    throw e
  }
}

/** Opens the call store at `path`, creating the file and its parent directory if needed. */
export const openCallStore = (
  path: string,
  options: OpenOptions = {}
): Effect.Effect<CallStore, CacheError> =>
  Effect.try({
    try: () => makeCallStore(path, openDatabaseUnsafe(path, options)),
    catch: (e) => new CacheError({ path, message: `cannot open call cache: ${errorMessage(e)}` })
  })

/** The store closed when the scope closes. */
export const scopedCallStore = (path: string, options: OpenOptions = {}) =>
  Effect.acquireRelease(openCallStore(path, options), (store) => store.close)

const makeCallStore = (path: string, db: Database.Database): CallStore => {
  const select = db.prepare<[string], Row>("SELECT * FROM calls WHERE key = ?")
  const selectAnswer = db
    .prepare<[string], [string, number, number]>(
      "SELECT text, prompt_tokens, completion_tokens FROM calls WHERE key = ?"
    )
    .raw()
  const insertOrIgnore = db.prepare(INSERT_OR_IGNORE_SQL)
  const insertOrReplace = db.prepare(INSERT_OR_REPLACE_SQL)
  const countStmt = db.prepare("SELECT COUNT(*) FROM calls").pluck()
  const recordDataset = db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)")
  const attempt = <A>(what: string, f: () => A): Effect.Effect<A, CacheError> =>
    Effect.try({
      try: f,
      catch: (e) => new CacheError({ path, message: `${what}: ${errorMessage(e)}` })
    })
  return {
    path,
    get: (key) =>
      attempt("cache read failed", () => {
        const row = select.get(key)
        return row === undefined ? undefined : rowToStoredCall(row)
      }),
    lookup: (key) =>
      attempt("cache read failed", () => {
        const row = selectAnswer.get(key)
        return row === undefined
          ? undefined
          : { text: row[0], usage: { promptTokens: row[1], completionTokens: row[2] } }
      }),
    put: (key, input, response) =>
      attempt(
        "cache write failed",
        () => insertOrIgnore.run(rowParams(key, input, response.text, response.usage)).changes > 0
      ),
    overwrite: (key, input, response) =>
      attempt("cache write failed", () => {
        insertOrReplace.run(rowParams(key, input, response.text, response.usage))
      }),
    count: attempt("cache read failed", () => Number(countStmt.get())),
    recordDatasets: (names) =>
      attempt("cache write failed", () => {
        for (const name of names) recordDataset.run(datasetMetaKey(name), new Date().toISOString())
      }),
    close: Effect.sync(() => {
      if (db.open) db.close()
    })
  }
}
