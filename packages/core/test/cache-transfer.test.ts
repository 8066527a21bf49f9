import { assert, describe, it } from "@effect/vitest"
import {
  cacheKey,
  type CacheKeyInput,
  cacheKeyInput,
  exportCache,
  importCache,
  isImported,
  openCallStore
} from "@maspo/core/cache"
import { Effect } from "effect"
import fc from "fast-check"
import { spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync, gzipSync } from "node:zlib"

const tempDir = () => mkdtempSync(join(tmpdir(), "maspo-cache-x-"))

interface Entry {
  readonly input: CacheKeyInput
  readonly text: string
  readonly usage: { readonly promptTokens: number; readonly completionTokens: number }
}

const entryArb: fc.Arbitrary<Entry> = fc.record({
  input: fc
    .record({
      provider: fc.constantFrom("openai", "sim"),
      model: fc.string({ minLength: 1, maxLength: 10 }),
      content: fc.string({ maxLength: 80, unit: "grapheme" }),
      sampleIndex: fc.nat({ max: 50 }),
      temperature: fc.double({ min: 0, max: 2, noNaN: true }),
      extra: fc.dictionary(
        fc.string({ minLength: 1, maxLength: 5 }),
        fc.oneof(fc.string({ maxLength: 5 }), fc.integer()),
        {
          maxKeys: 2
        }
      )
    })
    .map(({ provider, model, content, sampleIndex, temperature, extra }) =>
      cacheKeyInput(
        provider,
        {
          messages: [{ role: "user", content }],
          model,
          temperature,
          maxTokens: 256,
          seed: 3,
          sampleIndex
        },
        extra
      )
    ),
  text: fc.string({ maxLength: 200, unit: "grapheme" }),
  usage: fc.record({ promptTokens: fc.nat({ max: 10_000 }), completionTokens: fc.nat({ max: 10_000 }) })
})

const fill = (path: string, entries: ReadonlyArray<Entry>) =>
  Effect.gen(function* () {
    const store = yield* openCallStore(path)
    for (const e of entries) yield* store.put(cacheKey(e.input), e.input, { text: e.text, usage: e.usage })
    yield* store.close
  })

const contents = (path: string) =>
  Effect.gen(function* () {
    const store = yield* openCallStore(path)
    const n = yield* store.count
    return { store, n }
  })

const lines = (file: string): Array<string> =>
  gunzipSync(readFileSync(file))
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "")

const writeLines = (file: string, ls: ReadonlyArray<string>) =>
  writeFileSync(file, gzipSync(`${ls.join("\n")}\n`))

const sample: ReadonlyArray<Entry> = ["alpha", "beta", "gamma", "delta"].map((w, i) => ({
  input: cacheKeyInput("sim", {
    messages: [
      { role: "system", content: "sys" },
      { role: "user", content: w }
    ],
    model: "m",
    temperature: 0,
    maxTokens: 8,
    seed: 0,
    sampleIndex: i
  }),
  text: `answer ${w}\nwith a second line`,
  usage: { promptTokens: i, completionTokens: 2 * i }
}))

describe("exportCache / importCache", () => {
  it.effect("property: export then import reproduces every entry; exports are byte-identical", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(entryArb, { maxLength: 12, selector: (e) => cacheKey(e.input) }),
          async (entries) => {
            const dir = tempDir()
            await Effect.runPromise(
              Effect.gen(function* () {
                // Same content inserted in two different orders.
                yield* fill(join(dir, "a.sqlite"), entries)
                yield* fill(join(dir, "b.sqlite"), [...entries].reverse())
                const ea = yield* exportCache(join(dir, "a.sqlite"), join(dir, "out", "a.jsonl.gz"))
                yield* exportCache(join(dir, "b.sqlite"), join(dir, "out", "b.jsonl.gz"))
                assert.strictEqual(ea.written, entries.length)
                assert.isTrue(
                  readFileSync(join(dir, "out", "a.jsonl.gz")).equals(
                    readFileSync(join(dir, "out", "b.jsonl.gz"))
                  )
                )
                const ls = lines(join(dir, "out", "a.jsonl.gz"))
                assert.strictEqual(ls.length, entries.length)
                const keys = ls.map((l) => (JSON.parse(l) as { key: string }).key)
                assert.deepStrictEqual(keys, [...keys].sort())

                const counts = yield* importCache(join(dir, "out", "a.jsonl.gz"), join(dir, "c", "c.sqlite"))
                assert.deepStrictEqual(counts, {
                  read: entries.length,
                  inserted: entries.length,
                  skipped: 0,
                  withheld: 0,
                  discarded: 0
                })
                const { store, n } = yield* contents(join(dir, "c", "c.sqlite"))
                assert.strictEqual(n, entries.length)
                for (const e of entries) {
                  const got = yield* store.get(cacheKey(e.input))
                  assert.strictEqual(got?.text, e.text)
                  assert.deepStrictEqual(got?.usage, e.usage)
                  assert.deepStrictEqual(JSON.parse(got!.request), JSON.parse(JSON.stringify(e.input)))
                }
                yield* store.close
                // Importing again changes nothing.
                const again = yield* importCache(join(dir, "out", "a.jsonl.gz"), join(dir, "c", "c.sqlite"))
                assert.deepStrictEqual(again, {
                  read: entries.length,
                  inserted: 0,
                  skipped: entries.length,
                  withheld: 0,
                  discarded: 0
                })
                yield* exportCache(join(dir, "c", "c.sqlite"), join(dir, "out", "c.jsonl.gz"))
                assert.isTrue(
                  readFileSync(join(dir, "out", "a.jsonl.gz")).equals(
                    readFileSync(join(dir, "out", "c.jsonl.gz"))
                  )
                )
              })
            )
          }
        ),
        { numRuns: 15 }
      )
    )
  )

  it.effect(
    "property: altering any request field of a line is rejected, naming file:line; nothing is imported",
    () =>
      Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(
            fc.nat({ max: 3 }),
            fc.constantFrom("model", "provider", "content", "sampleIndex", "extraBody", "role"),
            async (index, field) => {
              const dir = tempDir()
              await Effect.runPromise(
                Effect.gen(function* () {
                  yield* fill(join(dir, "a.sqlite"), sample)
                  yield* exportCache(join(dir, "a.sqlite"), join(dir, "a.jsonl.gz"))
                  const ls = lines(join(dir, "a.jsonl.gz"))
                  const line = JSON.parse(ls[index]!) as {
                    provider: string
                    model: string
                    request: {
                      provider: string
                      model: string
                      sampleIndex: number
                      messages: Array<{ role: string; content: string }>
                      extraBody: Record<string, unknown>
                    }
                  }
                  const r = line.request
                  if (field === "model") ((r.model = `${r.model}x`), (line.model = r.model))
                  if (field === "provider") ((r.provider = "openai"), (line.provider = "openai"))
                  if (field === "content") r.messages[1]!.content += "!"
                  if (field === "role") r.messages[1]!.role = "assistant"
                  if (field === "sampleIndex") r.sampleIndex += 10
                  if (field === "extraBody") r.extraBody = { top_p: 1 }
                  ls[index] = JSON.stringify(line)
                  const tampered = join(dir, "tampered.jsonl.gz")
                  writeLines(tampered, ls)
                  const target = join(dir, "t.sqlite")
                  const error = yield* Effect.flip(importCache(tampered, target))
                  assert.strictEqual(error._tag, "InputError")
                  if (error._tag === "InputError") {
                    assert.strictEqual(error.source, `${tampered}:${index + 1}`)
                    assert.include(error.message, "key")
                  }
                  const { store, n } = yield* contents(target)
                  yield* store.close
                  assert.strictEqual(n, 0)
                })
              )
            }
          ),
          { numRuns: 12 }
        )
      )
  )

  it.effect("schema errors name file:line and the field", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      yield* fill(join(dir, "a.sqlite"), sample)
      yield* exportCache(join(dir, "a.sqlite"), join(dir, "a.jsonl.gz"))
      const ls = lines(join(dir, "a.jsonl.gz"))
      const bad = (mutate: (line: Record<string, any>) => void, at = 2) => {
        const copy = [...ls]
        const line = JSON.parse(copy[at - 1]!) as Record<string, any>
        mutate(line)
        copy[at - 1] = JSON.stringify(line)
        const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.jsonl.gz`)
        writeLines(file, copy)
        return file
      }
      const expectError = (file: string, line: number, ...words: Array<string>) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(importCache(file, join(dir, "target.sqlite")))
          assert.strictEqual(error._tag, "InputError")
          if (error._tag !== "InputError") return
          assert.strictEqual(error.source, `${file}:${line}`)
          for (const w of words) assert.include(error.message, w)
        })
      yield* expectError(
        bad((l) => (l.usage.promptTokens = "many")),
        2,
        "field usage.promptTokens: Expected number"
      )
      yield* expectError(
        bad((l) => delete l.text),
        2,
        "field text:"
      )
      yield* expectError(
        bad((l) => (l.request.messages[0].role = "robot"), 3),
        3,
        "field request.messages[0].role:"
      )
      yield* expectError(
        bad((l) => (l.request.v = 2)),
        2,
        "field request.v:"
      )
      yield* expectError(
        bad((l) => (l.key = "0".repeat(64)), 4),
        4,
        "key"
      )

      const notJson = join(dir, "notjson.jsonl.gz")
      writeLines(notJson, [ls[0]!, "{not json"])
      yield* expectError(notJson, 2, "invalid JSON")

      const notGzip = join(dir, "plain.jsonl")
      writeFileSync(notGzip, `${ls.join("\n")}\n`)
      const e1 = yield* Effect.flip(importCache(notGzip, join(dir, "target.sqlite")))
      assert.strictEqual(e1._tag, "InputError")
      if (e1._tag === "InputError") assert.strictEqual(e1.source, notGzip)

      const e2 = yield* Effect.flip(importCache(join(dir, "missing.gz"), join(dir, "target.sqlite")))
      assert.strictEqual(e2._tag, "InputError")

      const e3 = yield* Effect.flip(exportCache(join(dir, "missing.sqlite"), join(dir, "x.gz")))
      assert.strictEqual(e3._tag, "CacheError")

      const { store, n } = yield* contents(join(dir, "target.sqlite"))
      yield* store.close
      assert.strictEqual(n, 0)
    })
  )

  it.effect("importing keeps answers the store already has (first answer wins)", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      yield* fill(join(dir, "a.sqlite"), sample)
      yield* exportCache(join(dir, "a.sqlite"), join(dir, "a.jsonl.gz"))
      const first = sample[0]!
      yield* fill(join(dir, "b.sqlite"), [{ ...first, text: "mine" }])
      const counts = yield* importCache(join(dir, "a.jsonl.gz"), join(dir, "b.sqlite"))
      assert.deepStrictEqual(counts, { read: 4, inserted: 3, skipped: 1, withheld: 0, discarded: 0 })
      const { store, n } = yield* contents(join(dir, "b.sqlite"))
      assert.strictEqual(n, 4)
      assert.strictEqual((yield* store.get(cacheKey(first.input)))?.text, "mine")
      yield* store.close
    })
  )

  it.effect("an import into a new file is built beside it and put in place only when complete", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      yield* fill(join(dir, "a.sqlite"), sample)
      yield* exportCache(join(dir, "a.sqlite"), join(dir, "a.jsonl.gz"))
      assert.isTrue(yield* isImported(join(dir, "a.jsonl.gz"), join(dir, "a.sqlite")))

      // Leftovers of a killed import (a process that no longer runs) and a stale WAL of a removed
      // cache file of the same name.
      const dead = spawnSync(process.execPath, ["-e", ""]).pid!
      const target = join(dir, "new", "calls.sqlite")
      yield* Effect.sync(() => {
        mkdirSync(join(dir, "new"))
        writeFileSync(`${target}.importing-${dead}`, "partial")
        writeFileSync(`${target}.importing-${dead}-wal`, "partial wal")
        writeFileSync(`${target}-wal`, "stale wal of a removed file")
      })
      assert.isFalse(yield* isImported(join(dir, "a.jsonl.gz"), target))
      const counts = yield* importCache(join(dir, "a.jsonl.gz"), target)
      assert.deepStrictEqual(counts, { read: 4, inserted: 4, skipped: 0, withheld: 0, discarded: 1 })
      // One self-contained file, nothing beside it.
      assert.deepStrictEqual(readdirSync(join(dir, "new")), ["calls.sqlite"])
      assert.isTrue(yield* isImported(join(dir, "a.jsonl.gz"), target))
      const { store, n } = yield* contents(target)
      assert.strictEqual(n, 4)
      yield* store.close

      // A failed import into a new file leaves no file at all.
      const ls = lines(join(dir, "a.jsonl.gz"))
      writeLines(join(dir, "bad.jsonl.gz"), [...ls.slice(0, 3), "{not json"])
      const bad = join(dir, "bad", "calls.sqlite")
      const error = yield* Effect.flip(importCache(join(dir, "bad.jsonl.gz"), bad))
      assert.strictEqual(error._tag, "InputError")
      assert.isFalse(existsSync(bad))
      assert.deepStrictEqual(existsSync(join(dir, "bad")) ? readdirSync(join(dir, "bad")) : [], [])
    })
  )

  it.effect("a cache missing entries of the export (an interrupted older import) is completed", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      yield* fill(join(dir, "a.sqlite"), sample)
      yield* exportCache(join(dir, "a.sqlite"), join(dir, "a.jsonl.gz"))
      const partial = join(dir, "partial.sqlite")
      yield* fill(partial, sample.slice(0, 1))
      assert.isFalse(yield* isImported(join(dir, "a.jsonl.gz"), partial))
      const counts = yield* importCache(join(dir, "a.jsonl.gz"), partial)
      assert.deepStrictEqual(counts, { read: 4, inserted: 3, skipped: 1, withheld: 0, discarded: 0 })
      assert.isTrue(yield* isImported(join(dir, "a.jsonl.gz"), partial))
      // Another export (other bytes) is not taken for this one.
      yield* fill(join(dir, "a.sqlite"), [{ ...sample[0]!, input: { ...sample[0]!.input, seed: 9 } }])
      yield* exportCache(join(dir, "a.sqlite"), join(dir, "a.jsonl.gz"))
      assert.isFalse(yield* isImported(join(dir, "a.jsonl.gz"), partial))
    })
  )
})
