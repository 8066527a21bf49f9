import type Database from "better-sqlite3"
import { Effect, type Exit, Schema } from "effect"
import { createHash } from "node:crypto"
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from "node:fs"
import { dirname } from "node:path"
import { createInterface } from "node:readline"
import { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { createGunzip, createGzip } from "node:zlib"
import { canonicalJson } from "../canonical.ts"
import { InputError } from "../InputError.ts"
import { Usage } from "../LanguageModel.ts"
import {
  CacheError,
  datasetMetaKey,
  INSERT_OR_IGNORE_SQL,
  openDatabaseUnsafe,
  rowParams,
  type StoredAnswer,
  withheldDataset,
  withheldRowParams
} from "./CallStore.ts"
import { cacheKey, CacheKeyInput } from "./key.ts"
import {
  installImported,
  partialImportPath,
  removeInterruptedImports,
  removeOrphanSideFiles,
  removeWithSideFiles
} from "./partialImport.ts"
import { type ProtectedTexts, quoteDetector } from "./withhold.ts"

/** One line of an export file (gzip-compressed JSONL, sorted by key, canonical JSON per line). */
export const ExportLine = Schema.Struct({
  key: Schema.String,
  provider: Schema.String,
  model: Schema.String,
  request: CacheKeyInput,
  text: Schema.String,
  usage: Usage
})
export type ExportLine = typeof ExportLine.Type

/**
 * A line whose request was withheld because it quotes protected text (see `withhold.ts`): the key
 * (the hash of the request, which a replay recomputes from its own request), the dataset it quoted,
 * and the answer.
 */
export const WithheldLine = Schema.Struct({
  key: Schema.String,
  provider: Schema.String,
  model: Schema.String,
  withheld: Schema.String,
  text: Schema.String,
  usage: Usage
})
export type WithheldLine = typeof WithheldLine.Type

export interface ImportCounts {
  /** Entries in the file. */
  readonly read: number
  /** Entries that were new to the store. */
  readonly inserted: number
  /** Entries whose key the store already had (the stored answer is kept). */
  readonly skipped: number
  /** Entries of the file whose request was withheld: accepted by key, which cannot be re-checked. */
  readonly withheld: number
  /** Partial files of earlier imports into the same cache that were killed, removed first. */
  readonly discarded: number
}

export interface ExportOptions {
  /**
   * Texts that must not be republished, per dataset: the request of every entry that quotes one is
   * withheld (the line keeps its key and answer, so it still replays).
   */
  readonly withhold?: ReadonlyArray<ProtectedTexts>
}

export interface ExportCounts {
  /** Entries written. */
  readonly written: number
  /** Entries written with their request withheld, by the dataset quoted. */
  readonly withheld: Readonly<Record<string, number>>
  /**
   * Entries whose answer quotes a protected text, by dataset. Answers are written as they are (a
   * replay needs them), so an export with any is not free of that dataset's text.
   */
  readonly quotingAnswers: Readonly<Record<string, number>>
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const bump = (counts: Record<string, number>, name: string) => {
  counts[name] = (counts[name] ?? 0) + 1
}

/**
 * Writes every stored answer of the cache at `dbPath` to `outFile` as gzip-compressed JSONL, one
 * entry per line, sorted by key, each line canonical JSON: two exports of the same content are
 * byte-identical. The file is written next to `outFile` and renamed into place.
 *
 * With `options.withhold`, an entry any message of whose request quotes a protected text is written
 * as a `WithheldLine` (its request left out); so is an entry that was imported withheld. Answers are
 * kept: those quoting protected text are counted in `quotingAnswers`.
 */
export const exportCache = (
  dbPath: string,
  outFile: string,
  options: ExportOptions = {}
): Effect.Effect<ExportCounts, CacheError> =>
  Effect.tryPromise({
    try: async () => {
      const db = openDatabaseUnsafe(dbPath, { mustExist: true })
      const tmp = `${outFile}.tmp-${process.pid}`
      const detector = quoteDetector(options.withhold ?? [])
      let written = 0
      const withheld: Record<string, number> = {}
      const quotingAnswers: Record<string, number> = {}
      try {
        mkdirSync(dirname(outFile), { recursive: true })
        // One statement reads one snapshot (WAL), even while another process writes.
        const rows = db
          .prepare(
            "SELECT key, provider, model, request, text, prompt_tokens, completion_tokens FROM calls ORDER BY key"
          )
          .iterate() as IterableIterator<{
          key: string
          provider: string
          model: string
          request: string
          text: string
          prompt_tokens: number
          completion_tokens: number
        }>
        const lines = function* () {
          for (const row of rows) {
            written++
            const request = JSON.parse(row.request) as unknown
            const usage = { promptTokens: row.prompt_tokens, completionTokens: row.completion_tokens }
            let quoted = withheldDataset(request)
            if (quoted === undefined)
              for (const m of (request as CacheKeyInput).messages) {
                quoted = detector.quotes(m.content)
                if (quoted !== undefined) break
              }
            const answerQuotes = detector.quotes(row.text)
            if (answerQuotes !== undefined) bump(quotingAnswers, answerQuotes)
            const base = { key: row.key, provider: row.provider, model: row.model, text: row.text, usage }
            if (quoted !== undefined) {
              bump(withheld, quoted)
              const line: WithheldLine = { ...base, withheld: quoted }
              yield `${canonicalJson(line)}\n`
            } else {
              const line: ExportLine = { ...base, request: request as CacheKeyInput }
              yield `${canonicalJson(line)}\n`
            }
          }
        }
        await pipeline(Readable.from(lines()), createGzip(), createWriteStream(tmp))
        // The store holds every entry of what it exported: a run seeding it from this file later
        // has nothing to import (see `isImported`).
        markImported(db, await fileSha256(tmp), outFile)
        renameSync(tmp, outFile)
        return { written, withheld, quotingAnswers }
      } catch (e) {
        rmSync(tmp, { force: true })
        throw e
      } finally {
        db.close()
      }
    },
    catch: (e) => new CacheError({ path: dbPath, message: `export to ${outFile} failed: ${errorMessage(e)}` })
  })

/** A bad line of an import file; carried out of the stream callbacks as a value. */
class BadLine {
  constructor(readonly error: InputError) {}
}

// A line with a field this build does not know is an error, not a field silently dropped.
const strict = { onExcessProperty: "error" } as const
const decodeFullLine = Schema.decodeUnknownExit(ExportLine, strict)
const decodeWithheldLine = Schema.decodeUnknownExit(WithheldLine, strict)
/** A line with a `withheld` field is a withheld entry; any other is a full one. */
const decodeLine = (raw: unknown): Exit.Exit<ExportLine | WithheldLine, Schema.SchemaError> =>
  typeof raw === "object" && raw !== null && "withheld" in raw ? decodeWithheldLine(raw) : decodeFullLine(raw)

/** What a replay reads of a line: the key and the answer (the request is not needed to serve it). */
const AnswerLine = Schema.Struct({ key: Schema.String, text: Schema.String, usage: Usage })
type AnswerLine = typeof AnswerLine.Type
const decodeAnswerLine = Schema.decodeUnknownExit(AnswerLine)

/** `Expected number\n  at ["usage"]["promptTokens"]` -> `field usage.promptTokens: Expected number`. */
const describeIssue = (message: string): string => {
  const m = /^([\s\S]*?)\n\s*at ((?:\[[^\]]*\])+)\s*$/.exec(message)
  if (m === null) return message.replace(/\s*\n\s*/g, " ")
  const path = m[2]!.replace(/\["((?:[^"\\]|\\.)*)"\]/g, ".$1").replace(/^\./, "")
  return `field ${path}: ${m[1]!.replace(/\s*\n\s*/g, " ")}`
}

/** JSON-parses and decodes one line, or throws a `BadLine` naming `source` and the field. */
const decodeWith =
  <A>(decode: (raw: unknown) => Exit.Exit<A, Schema.SchemaError>) =>
  (source: string, text: string): A => {
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch (e) {
      throw new BadLine(new InputError({ source, message: `invalid JSON: ${errorMessage(e)}` }))
    }
    const decoded = decode(raw)
    if (decoded._tag === "Failure") {
      const issue = decoded.cause.reasons
        .map((r) => (r._tag === "Fail" ? describeIssue(r.error.message) : String(r)))
        .join("; ")
      throw new BadLine(new InputError({ source, message: `invalid cache entry: ${issue}` }))
    }
    return decoded.value
  }

const parseAnswerLine = decodeWith(decodeAnswerLine)
const decodeExportLine = decodeWith(decodeLine)

const SHA256_HEX = /^[0-9a-f]{64}$/

const altered = (source: string, message: string) => new BadLine(new InputError({ source, message }))

/**
 * Parses and checks one line. A full line's key must be the hash of its request (tampered lines are
 * rejected); a withheld line has no request to hash, so only the form of its key (a sha256 hex
 * digest) and its dataset name are checked: such entries are counted, and trusted as far as the
 * export they came from is.
 */
const parseLine = (source: string, text: string): ExportLine | WithheldLine => {
  const line = decodeExportLine(source, text)
  if ("withheld" in line) {
    if (!SHA256_HEX.test(line.key))
      throw altered(source, `field key: ${line.key} is not a sha256 hex digest; the line was altered`)
    if (line.withheld === "") throw altered(source, "field withheld: empty dataset name")
    return line
  }
  const expected = cacheKey(line.request)
  if (line.key !== expected)
    throw altered(
      source,
      `field key: ${line.key} is not the hash of the request (expected ${expected}); the line was altered`
    )
  if (line.provider !== line.request.provider || line.model !== line.request.model)
    throw altered(source, "fields provider/model: they differ from the request's; the line was altered")
  return line
}

const BATCH = 500

/**
 * Reads the file line by line (gunzipped); calls `onBatch` with every `BATCH` checked entries. A bad
 * line, or a file that is not gzip-compressed JSONL, rejects with a `BadLine`.
 */
const readEntries = async <A>(
  inFile: string,
  parse: (source: string, text: string) => A,
  onBatch: (entries: ReadonlyArray<A>) => void
): Promise<number> => {
  let lineNo = 0
  let read = 0
  let batch: Array<A> = []
  let lines
  try {
    lines = createInterface({ input: createReadStream(inFile).pipe(createGunzip()), crlfDelay: Infinity })
  } catch (e) {
    throw unreadable(inFile, e)
  }
  const it = lines[Symbol.asyncIterator]()
  while (true) {
    let next
    try {
      next = await it.next()
    } catch (e) {
      throw unreadable(inFile, e)
    }
    if (next.done === true) break
    const text = next.value
    lineNo++
    if (text.trim() === "") continue
    batch.push(parse(`${inFile}:${lineNo}`, text))
    read++
    if (batch.length >= BATCH) {
      onBatch(batch)
      batch = []
    }
  }
  if (batch.length > 0) onBatch(batch)
  return read
}

const unreadable = (inFile: string, e: unknown) =>
  new BadLine(new InputError({ source: inFile, message: `unreadable cache export: ${errorMessage(e)}` }))

/** Runs `read`, turning a bad line into its `InputError` and any other failure into `other(message)`. */
const readingExport = <A, E>(
  inFile: string,
  read: () => Promise<A>,
  other: (message: string) => E
): Effect.Effect<A, InputError | E> =>
  Effect.tryPromise({
    try: async () => {
      if (!existsSync(inFile)) throw new BadLine(new InputError({ source: inFile, message: "no such file" }))
      return await read()
    },
    catch: (e) => (e instanceof BadLine ? e.error : other(errorMessage(e)))
  })

/** The sha256 of an export file's bytes: what a store records once it holds all of that file. */
const fileSha256 = (file: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const hash = createHash("sha256")
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")))
  })

/** The meta row saying that a store holds every entry of the export whose bytes hash to `sha256`. */
const importedMarker = (sha256: string) => `imported:${sha256}`

const markImported = (db: Database.Database, sha256: string, file: string) =>
  db
    .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
    .run(importedMarker(sha256), JSON.stringify({ file, at: new Date().toISOString() }))

/**
 * Inserts every entry of `inFile` into the store at `dbPath` inside one transaction, with the marker
 * that the store now holds the whole file: all of it is committed, or (killed, or a bad line) none.
 */
const importInto = async (
  inFile: string,
  dbPath: string,
  sha256: string
): Promise<{ read: number; inserted: number; withheld: number }> => {
  const db = openDatabaseUnsafe(dbPath)
  try {
    const insert = db.prepare(INSERT_OR_IGNORE_SQL)
    let inserted = 0
    let withheld = 0
    // BEGIN IMMEDIATE takes the write lock now, so the import cannot deadlock with a writer that
    // started meanwhile; nothing else uses this connection while the file streams in.
    db.exec("BEGIN IMMEDIATE")
    try {
      const read = await readEntries(inFile, parseLine, (entries) => {
        for (const e of entries) {
          if ("withheld" in e) withheld++
          const row =
            "withheld" in e
              ? withheldRowParams(e.key, e.provider, e.model, e.withheld, e.text, e.usage)
              : rowParams(e.key, e.request, e.text, e.usage)
          inserted += insert.run(row).changes
        }
      })
      markImported(db, sha256, inFile)
      db.exec("COMMIT")
      return { read, inserted, withheld }
    } catch (e) {
      if (db.inTransaction) db.exec("ROLLBACK")
      throw e
    }
  } finally {
    db.close()
  }
}

/**
 * Imports an export file into the cache at `dbPath`. Every line is decoded with Schema and its key
 * checked against the request; the file is read in one pass inside one transaction, rolled back at
 * the first bad or altered line (an `InputError` whose source is `file:line`), so such a file imports
 * nothing. Entries are inserted with INSERT OR IGNORE: answers already in the store are kept, and
 * importing again only adds what is missing.
 *
 * All or nothing, even when killed: a missing `dbPath` is built under a temporary name beside it
 * (`partialImportPath`), completed, folded out of WAL mode and only then put in place, so a cache
 * file never exists half-filled. What an earlier killed import left behind is removed first
 * (counted in `discarded`). The store records that it holds the whole file (see `isImported`).
 */
export const importCache = (
  inFile: string,
  dbPath: string
): Effect.Effect<ImportCounts, InputError | CacheError> =>
  readingExport(
    inFile,
    async () => {
      const discarded = removeInterruptedImports(dbPath)
      const sha256 = await fileSha256(inFile)
      const done = (c: { read: number; inserted: number; withheld: number }): ImportCounts => ({
        read: c.read,
        inserted: c.inserted,
        skipped: c.read - c.inserted,
        withheld: c.withheld,
        discarded
      })
      if (existsSync(dbPath)) return done(await importInto(inFile, dbPath, sha256))
      removeOrphanSideFiles(dbPath)
      const built = partialImportPath(dbPath)
      try {
        removeWithSideFiles(built)
        const counts = await importInto(inFile, built, sha256)
        // One self-contained file: the WAL is checkpointed into it and deleted.
        const db = openDatabaseUnsafe(built, { mustExist: true })
        try {
          db.pragma("journal_mode = DELETE")
        } finally {
          db.close()
        }
        if (installImported(built, dbPath)) return done(counts)
        // Another process created the cache meanwhile: add the entries to its file instead.
        return done(await importInto(inFile, dbPath, sha256))
      } finally {
        removeWithSideFiles(built)
      }
    },
    (message) => new CacheError({ path: dbPath, message: `import from ${inFile} failed: ${message}` })
  )

/**
 * True when the cache at `dbPath` holds every entry of the export `inFile` as it is now: an import
 * of these exact bytes was committed into it, or the export was written from it. False for a missing
 * cache, and for one an import into was interrupted before this marker existed (which a new import
 * completes).
 */
export const isImported = (inFile: string, dbPath: string): Effect.Effect<boolean, CacheError> =>
  Effect.tryPromise({
    try: async () => {
      if (!existsSync(dbPath) || !existsSync(inFile)) return false
      const sha256 = await fileSha256(inFile)
      const db = openDatabaseUnsafe(dbPath, { mustExist: true })
      try {
        return db.prepare("SELECT 1 FROM meta WHERE key = ?").get(importedMarker(sha256)) !== undefined
      } finally {
        db.close()
      }
    },
    catch: (e) => new CacheError({ path: dbPath, message: `cannot read call cache: ${errorMessage(e)}` })
  })

/**
 * Every answer of an export file, by key, for replaying straight from a published export without
 * building a SQLite file first. Each line's key, text and usage are decoded (a bad line is an
 * `InputError` naming `file:line` and the field); the request is not decoded nor re-hashed, since a
 * replay looks answers up by the key of its own request and never reads the stored one.
 */
export const readExportAnswers = (
  inFile: string
): Effect.Effect<Map<string, StoredAnswer>, InputError | CacheError> =>
  readingExport(
    inFile,
    async () => {
      const answers = new Map<string, StoredAnswer>()
      await readEntries(inFile, parseAnswerLine, (entries: ReadonlyArray<AnswerLine>) => {
        // The first recorded answer wins, as in the store (an export has each key once anyway).
        for (const e of entries) if (!answers.has(e.key)) answers.set(e.key, { text: e.text, usage: e.usage })
      })
      return answers
    },
    (message) => new CacheError({ path: inFile, message: `cannot read cache export: ${message}` })
  )

export interface CacheStats {
  readonly entries: number
  /** Entries imported with their request withheld, by the dataset quoted. */
  readonly withheld: Readonly<Record<string, number>>
  /** Datasets runs recorded calls about (see `CallStore.recordDatasets`), sorted. */
  readonly datasets: ReadonlyArray<string>
}

/** What a cache file holds: entries, withheld entries by dataset, the datasets runs recorded. */
export const cacheStats = (dbPath: string): Effect.Effect<CacheStats, CacheError> =>
  Effect.try({
    try: () => {
      const db = openDatabaseUnsafe(dbPath, { mustExist: true })
      try {
        const entries = Number(db.prepare("SELECT COUNT(*) FROM calls").pluck().get())
        const withheld: Record<string, number> = {}
        const rows = db
          .prepare<[], [string, number]>(
            `SELECT request, COUNT(*) FROM calls WHERE request LIKE '{"withheld":%' GROUP BY request ORDER BY request`
          )
          .raw()
          .all()
        for (const [request, n] of rows) {
          const dataset = withheldDataset(JSON.parse(request))
          if (dataset !== undefined) withheld[dataset] = (withheld[dataset] ?? 0) + n
        }
        const prefix = datasetMetaKey("")
        const datasets = (
          db
            .prepare("SELECT key FROM meta WHERE key LIKE ? ORDER BY key")
            .pluck()
            .all(`${prefix}%`) as Array<string>
        ).map((k) => k.slice(prefix.length))
        return { entries, withheld, datasets }
      } finally {
        db.close()
      }
    },
    catch: (e) => new CacheError({ path: dbPath, message: `cannot read call cache: ${errorMessage(e)}` })
  })
