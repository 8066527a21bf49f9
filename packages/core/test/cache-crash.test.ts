import { assert, describe, it } from "@effect/vitest"
import { openCallStore } from "@maspo/core/cache"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { crashValue } from "./fixtures/cache-crash-value.ts"

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const child = fileURLToPath(new URL("./fixtures/cache-crash-child.ts", import.meta.url))

const ROUNDS = 6
/** Keys a child must have printed before the kill timer starts. */
const MIN_KEYS = 3
const MAX_DELAY_MS = 250

/** Seeded delays, so a failing schedule can be replayed. */
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

interface Round {
  readonly printed: ReadonlyArray<string>
  readonly signal: NodeJS.Signals | null
}

/** Runs the writer child, kills it with SIGKILL `delayMs` after it printed MIN_KEYS keys. */
const runAndKill = (dbPath: string, prefix: string, delayMs: number): Promise<Round> =>
  new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, dbPath, prefix], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    let timer: NodeJS.Timeout | undefined
    proc.stdout.setEncoding("utf8")
    proc.stderr.setEncoding("utf8")
    proc.stdout.on("data", (chunk: string) => {
      out += chunk
      if (timer === undefined && out.split("\n").length - 1 >= MIN_KEYS) {
        timer = setTimeout(() => proc.kill("SIGKILL"), delayMs)
      }
    })
    proc.stderr.on("data", (chunk: string) => {
      err += chunk
    })
    proc.on("error", reject)
    // "close": the process is gone and its stdout fully read.
    proc.on("close", (_code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      if (signal !== "SIGKILL") {
        reject(new Error(`writer exited by itself (signal ${signal}): ${err}`))
        return
      }
      // Only complete lines: a key is printed after its put returned.
      const printed = out.split("\n").slice(0, -1)
      resolve({ printed, signal })
    })
  })

describe("call cache crash safety", () => {
  it.effect(
    `survives ${ROUNDS} SIGKILLs of a writer at random moments`,
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "maspo-cache-crash-"))
        const dbPath = join(dir, "calls.sqlite")
        const rand = mulberry32(20240611)
        const printed: Array<string> = []
        for (let round = 0; round < ROUNDS; round++) {
          const delay = Math.floor(rand() * MAX_DELAY_MS)
          const result = yield* Effect.promise(() => runAndKill(dbPath, `round${round}`, delay))
          assert.strictEqual(result.signal, "SIGKILL")
          assert.isAtLeast(result.printed.length, MIN_KEYS)
          printed.push(...result.printed)

          // The file opens after every kill; every printed key holds exactly what was written.
          const store = yield* openCallStore(dbPath)
          for (const key of printed) {
            const got = yield* store.get(key)
            assert.isDefined(got, `key ${key} printed in round ${round} is missing`)
            const expected = crashValue(key)
            assert.strictEqual(got!.text, expected.text)
            assert.deepStrictEqual(got!.usage, expected.usage)
          }
          const count = yield* store.count
          assert.isAtLeast(count, printed.length)
          yield* store.close
        }

        // No row is corrupt, printed or not (the put in progress at the kill is all or nothing).
        const db = new Database(dbPath)
        try {
          assert.strictEqual(db.pragma("integrity_check", { simple: true }), "ok")
          const rows = db
            .prepare("SELECT key, text, prompt_tokens, completion_tokens FROM calls")
            .all() as Array<{
            key: string
            text: string
            prompt_tokens: number
            completion_tokens: number
          }>
          assert.isAtLeast(rows.length, printed.length)
          for (const row of rows) {
            const expected = crashValue(row.key)
            assert.strictEqual(row.text, expected.text)
            assert.deepStrictEqual(
              [row.prompt_tokens, row.completion_tokens],
              [expected.usage.promptTokens, expected.usage.completionTokens]
            )
          }
        } finally {
          db.close()
        }
        rmSync(dir, { recursive: true, force: true })
      }),
    // ~5 s on an idle machine; generous for a loaded one.
    60_000
  )
})
