import { assert, describe, it } from "@effect/vitest"
import { SeededRng } from "@maspo/core"
import { cacheKey, cacheKeyInput, importCache, openCallStore } from "@maspo/core/cache"
import Database from "better-sqlite3"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { gzipSync } from "node:zlib"

/**
 * An import killed at any moment is all or nothing: a new cache file either does not exist or holds
 * the whole export; an existing one holds what it held or all of it; the next import completes it.
 */

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const child = fileURLToPath(new URL("./fixtures/cache-import-child.ts", import.meta.url))

const ENTRIES = 30_000
const ROUNDS = 4

const line = (i: number) => {
  const request = cacheKeyInput("sim", {
    model: "m",
    messages: [{ role: "user", content: `question ${i}` }],
    temperature: 0,
    maxTokens: 8,
    seed: 0,
    sampleIndex: 0
  })
  return {
    key: cacheKey(request),
    provider: "sim",
    model: "m",
    request,
    text: `answer ${i}`,
    usage: { promptTokens: 1, completionTokens: 1 }
  }
}

/** Runs the import child and kills it `delayMs` after it started importing (unless it finished). */
const importAndKill = (inFile: string, dbPath: string, delayMs: number) =>
  new Promise<{ readonly finished: boolean }>((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, inFile, dbPath], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let out = ""
    let err = ""
    let timer: NodeJS.Timeout | undefined
    proc.stdout.setEncoding("utf8")
    proc.stdout.on("data", (chunk: string) => {
      out += chunk
      if (timer === undefined && out.includes("importing\n"))
        timer = setTimeout(() => proc.kill("SIGKILL"), delayMs)
    })
    proc.stderr.on("data", (chunk: string) => (err += chunk))
    proc.on("error", reject)
    proc.on("close", (code, signal) => {
      if (timer !== undefined) clearTimeout(timer)
      if (signal === "SIGKILL") resolve({ finished: false })
      else if (code === 0 && out.includes("done")) resolve({ finished: true })
      else reject(new Error(`import child failed (${code}): ${err}`))
    })
  })

const count = (dbPath: string): number => {
  const db = new Database(dbPath)
  try {
    assert.strictEqual(db.pragma("integrity_check", { simple: true }), "ok")
    return Number(db.prepare("SELECT COUNT(*) FROM calls").pluck().get())
  } finally {
    db.close()
  }
}

describe("cache import crash safety", () => {
  it.effect(
    `an import SIGKILLed at ${ROUNDS} random moments is all or nothing, into a new or an existing file`,
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "maspo-import-crash-"))
        const inFile = join(dir, "export.jsonl.gz")
        writeFileSync(
          inFile,
          gzipSync(`${Array.from({ length: ENTRIES }, (_, i) => JSON.stringify(line(i))).join("\n")}\n`)
        )
        // Kill delays spread over how long an import takes on this machine, so most land inside one.
        const started = Date.now()
        yield* importCache(inFile, join(dir, "timing", "calls.sqlite"))
        const importMs = Date.now() - started
        // Seeded delays, so a failing schedule can be replayed.
        const rng = new SeededRng(20261201)
        for (let round = 0; round < ROUNDS; round++) {
          // Even rounds: a new file; odd rounds: an existing one holding a few entries already.
          const target = join(dir, `round${round}`, "calls.sqlite")
          const before = round % 2 === 0 ? 0 : 5
          if (before > 0) {
            const store = yield* openCallStore(target)
            for (let i = 0; i < before; i++) {
              const l = line(i)
              yield* store.put(l.key, l.request, { text: l.text, usage: l.usage })
            }
            yield* store.close
          }
          const result = yield* Effect.promise(() =>
            importAndKill(inFile, target, Math.floor(rng.next() * importMs))
          )
          if (existsSync(target)) {
            const n = count(target)
            // A new file exists only complete (an empty one would make a restart skip the import);
            // an existing one holds what it held, or everything.
            const allowed = before === 0 ? [ENTRIES] : [before, ENTRIES]
            assert.include(allowed, n, `round ${round}: ${n} entries`)
            if (result.finished) assert.strictEqual(n, ENTRIES)
          } else {
            assert.strictEqual(before, 0)
            assert.isFalse(result.finished)
          }
          // The next import completes it and leaves nothing beside the file.
          const counts = yield* importCache(inFile, target)
          assert.strictEqual(counts.read, ENTRIES)
          assert.strictEqual(count(target), ENTRIES)
          const left = readdirSync(join(dir, `round${round}`)).filter((f) => f.includes(".importing-"))
          assert.deepStrictEqual(left, [])
        }
        rmSync(dir, { recursive: true, force: true })
      }),
    180_000
  )
})
