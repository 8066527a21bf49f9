import { assert, describe, it } from "@effect/vitest"
import type { LanguageModelClient, LMRequest } from "@maspo/core"
import {
  cacheKey,
  cacheKeyInput,
  CallCache,
  exportCache,
  openCallStore,
  replaySnapshot,
  withCache
} from "@maspo/core/cache"
import { Effect } from "effect"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync, gzipSync } from "node:zlib"

const tempDir = () => mkdtempSync(join(tmpdir(), "maspo-snapshot-"))

const request = (content: string): LMRequest => ({
  messages: [{ role: "user", content }],
  model: "m1",
  temperature: 0,
  maxTokens: 64,
  seed: 1,
  sampleIndex: 0
})

/** Answers `live:<content>`; counts its calls, so a replay that reached it is caught. */
const liveClient = () => {
  let calls = 0
  const client: LanguageModelClient = {
    provider: "sim",
    model: "m1",
    generate: (r) =>
      Effect.sync(() => {
        calls++
        return { text: `live:${r.messages[0]!.content}`, usage: { promptTokens: 2, completionTokens: 3 } }
      })
  }
  return { client, calls: () => calls }
}

/** A SQLite cache holding answers for `contents`, recorded through a read-write wrapper. */
const recorded = (path: string, contents: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const store = yield* openCallStore(path)
    const cached = withCache(liveClient().client, store, "read-write")
    for (const c of contents) yield* cached.generate(request(c))
    yield* store.close
  })

/** Every answer for `contents` through `CallCache.layer(path, "replay")`; the live client is never reached. */
const replayed = (path: string, contents: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const cache = yield* CallCache
    const live = liveClient()
    const client = cache.wrap(live.client)
    const out = []
    for (const c of contents) out.push(yield* client.generate(request(c)))
    assert.strictEqual(live.calls(), 0)
    return { answers: out, count: yield* cache.count }
  }).pipe(Effect.provide(CallCache.layer(path, "replay")))

describe("replay snapshots", () => {
  it.effect("a SQLite cache and its export replay the same answers, all cache hits", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const db = join(dir, "calls.sqlite")
      const contents = ["a", "b", "c", "unicode ✓ \u{1F600}"]
      yield* recorded(db, contents)
      yield* exportCache(db, join(dir, "calls.jsonl.gz"))
      const fromDb = yield* replayed(db, contents)
      const fromExport = yield* replayed(join(dir, "calls.jsonl.gz"), contents)
      assert.deepStrictEqual(fromExport, fromDb)
      assert.strictEqual(fromDb.count, 4)
      assert.deepStrictEqual(
        fromDb.answers.map((a) => [a.text, a.cached]),
        contents.map((c) => [`live:${c}`, true])
      )
    })
  )

  it.effect("a miss fails naming the key, without a live call", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const db = join(dir, "calls.sqlite")
      yield* recorded(db, ["a"])
      const error = yield* Effect.flip(replayed(db, ["a", "not recorded"]))
      assert.strictEqual(error._tag, "LanguageModelError")
      const key = cacheKey(cacheKeyInput("sim", request("not recorded")))
      assert.include(error.message, `no cached answer for key ${key}`)
    })
  )

  it.effect("is loaded once per unchanged file and again after the file changes", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const db = join(dir, "calls.sqlite")
      yield* recorded(db, ["a"])
      const first = yield* replaySnapshot(db)
      assert.strictEqual(yield* replaySnapshot(db), first)
      // A later read-write run adds an answer (to the WAL first): the next replay must see it.
      yield* recorded(db, ["b"])
      const second = yield* replaySnapshot(db)
      assert.notStrictEqual(second, first)
      assert.strictEqual(yield* second.count, 2)
      assert.strictEqual((yield* replayed(db, ["a", "b"])).count, 2)
    })
  )

  it.effect("is read-only, and a missing file is an error rather than an empty cache", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const db = join(dir, "calls.sqlite")
      yield* recorded(db, ["a"])
      const snapshot = yield* replaySnapshot(db)
      const input = cacheKeyInput("sim", request("z"))
      const put = yield* Effect.flip(
        snapshot.put(cacheKey(input), input, { text: "x", usage: { promptTokens: 1, completionTokens: 1 } })
      )
      assert.include(put.message, "read-only")
      const missing = yield* Effect.flip(replaySnapshot(join(dir, "nope.sqlite")))
      assert.strictEqual(missing._tag, "CacheError")
      const missingExport = yield* Effect.flip(replaySnapshot(join(dir, "nope.jsonl.gz")))
      assert.strictEqual(missingExport._tag, "InputError")
    })
  )

  it.effect("a bad line of an export names file:line and the field", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const db = join(dir, "calls.sqlite")
      yield* recorded(db, ["a", "b", "c"])
      const good = join(dir, "good.jsonl.gz")
      yield* exportCache(db, good)
      const lines = gunzipSync(readFileSync(good)).toString("utf8").trim().split("\n")
      const second = JSON.parse(lines[1]!) as { usage: { completionTokens: unknown } }
      second.usage.completionTokens = "three"
      const bad = join(dir, "bad.jsonl.gz")
      writeFileSync(bad, gzipSync(`${[lines[0], JSON.stringify(second), lines[2]].join("\n")}\n`))
      const error = yield* Effect.flip(replaySnapshot(bad))
      assert.strictEqual(error._tag, "InputError")
      if (error._tag !== "InputError") return
      assert.strictEqual(error.source, `${bad}:2`)
      assert.include(error.message, "field usage.completionTokens")
    })
  )
})
