/**
 * The call cache at 100k entries: time to open it, lookups (hits and misses) and inserts per second
 * through the store API. The 100k entries are written with better-sqlite3 directly in one transaction
 * through the store's own schema and insert statement (the API commits one entry per transaction).
 */
import { cacheKey, cacheKeyInput, openCallStore } from "@maspo/core/cache"
import type { LMRequest } from "@maspo/core"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { canonicalJson } from "@maspo/core"
import { type Figure, figure, log } from "./util.ts"

// better-sqlite3 is a dependency of @maspo/core, resolved from there.
const Database = createRequire(new URL("../packages/core/package.json", import.meta.url))(
  "better-sqlite3"
) as typeof import("better-sqlite3")

export const CACHE_ENTRIES = 100_000

const request = (i: number, salt = ""): LMRequest => ({
  messages: [
    { role: "system", content: "You are the solver in a two-agent team." },
    {
      role: "user",
      content: `Problem ${salt}${i}: compute ${i} * 7 + 3 and put the answer in <answer></answer> tags.`
    }
  ],
  model: "maspo-sim-1",
  temperature: 0,
  maxTokens: 2048,
  seed: 1,
  sampleIndex: 0
})
const inputOf = (i: number, salt = "") => cacheKeyInput("openai", request(i, salt))
const response = (i: number) => ({
  text: `<answer>${i * 7 + 3}</answer>`,
  usage: { promptTokens: 40, completionTokens: 6 }
})

const rate = (n: number, ms: number) => (n * 1000) / ms

export const cacheBenchmarks = async (): Promise<Array<Figure>> => {
  const dir = mkdtempSync(join(tmpdir(), "maspo-bench-cache-"))
  const path = join(dir, "calls.sqlite")
  try {
    // Create the file and schema through the API, then fill it in one transaction.
    await Effect.runPromise(Effect.flatMap(openCallStore(path), (s) => s.close))
    const keys: Array<string> = []
    const t0 = performance.now()
    const db = new Database(path)
    const insert = db.prepare(
      "INSERT OR IGNORE INTO calls (key, provider, model, request, text, prompt_tokens, completion_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    )
    const now = new Date().toISOString()
    db.transaction(() => {
      for (let i = 0; i < CACHE_ENTRIES; i++) {
        const input = inputOf(i)
        const key = cacheKey(input)
        keys.push(key)
        insert.run(key, input.provider, input.model, canonicalJson(input), response(i).text, 40, 6, now)
      }
    })()
    db.close()
    const fillMs = performance.now() - t0
    log(`cache: ${CACHE_ENTRIES} entries written in ${fillMs.toFixed(0)} ms`)

    const openStart = performance.now()
    const store = await Effect.runPromise(openCallStore(path, { mustExist: true }))
    const openMs = performance.now() - openStart
    const count = await Effect.runPromise(store.count)
    if (count !== CACHE_ENTRIES) throw new Error(`expected ${CACHE_ENTRIES} entries, found ${count}`)

    const LOOKUPS = 50_000
    // Lookups of random stored keys (hits), then of keys never stored (misses).
    let state = 12345
    const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31)
    const hitKeys = Array.from({ length: LOOKUPS }, () => keys[next() % keys.length]!)
    const missKeys = Array.from({ length: LOOKUPS }, (_, i) => cacheKey(inputOf(i, "miss-")))
    const timed = async (f: () => Effect.Effect<unknown, unknown>) => {
      const s = performance.now()
      await Effect.runPromise(f())
      return performance.now() - s
    }
    const hitMs = await timed(() => Effect.forEach(hitKeys, (k) => store.get(k), { discard: true }))
    const missMs = await timed(() => Effect.forEach(missKeys, (k) => store.get(k), { discard: true }))
    // Lookup including key computation (what a cached client does per call).
    const keyedMs = await timed(() =>
      Effect.forEach(
        Array.from({ length: 20_000 }, (_, i) => i * 5),
        (i) => store.get(cacheKey(inputOf(i))),
        { discard: true }
      )
    )
    const INSERTS = 5_000
    const putMs = await timed(() =>
      Effect.forEach(
        Array.from({ length: INSERTS }, (_, i) => i),
        (i) => store.put(cacheKey(inputOf(i, "new-")), inputOf(i, "new-"), response(i)),
        { discard: true }
      )
    )
    await Effect.runPromise(store.close)
    return [
      figure("cache", "prefill 100k entries (one transaction, direct)", fillMs, "ms"),
      figure("cache", "open 100k-entry store", openMs, "ms"),
      figure("cache", "get (hit)", rate(LOOKUPS, hitMs), "lookups/s", `${LOOKUPS} random stored keys`),
      figure("cache", "get (miss)", rate(LOOKUPS, missMs), "lookups/s", `${LOOKUPS} absent keys`),
      figure("cache", "cacheKey + get (hit)", rate(20_000, keyedMs), "lookups/s", "key hashed per lookup"),
      figure(
        "cache",
        "put (new key, own transaction)",
        rate(INSERTS, putMs),
        "inserts/s",
        `${INSERTS} inserts, WAL, synchronous=NORMAL`
      )
    ]
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
