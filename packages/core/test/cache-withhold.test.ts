import { assert, describe, it } from "@effect/vitest"
import {
  cacheKey,
  cacheKeyInput,
  cacheStats,
  exportCache,
  importCache,
  openCallStore,
  QUOTE_MIN_CHARS,
  quoteDetector,
  replaySnapshot
} from "@maspo/core/cache"
import { Effect } from "effect"
import fc from "fast-check"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync, gzipSync } from "node:zlib"

const tempDir = () => mkdtempSync(join(tmpdir(), "maspo-cache-withhold-"))

/** Words over a small alphabet, so protected texts and hosts are made of the same material. */
const wordy = (min: number, max: number) =>
  fc.array(fc.stringMatching(/^[a-e]{1,6}$/), { minLength: min, maxLength: max }).map((ws) => ws.join(" "))

describe("quoteDetector", () => {
  it("property: any quoted run of QUOTE_MIN_CHARS characters is found, whatever the whitespace", () =>
    fc.assert(
      fc.property(
        wordy(20, 60),
        fc.string({ maxLength: 80 }),
        fc.string({ maxLength: 80 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom(" ", "\n", "  \t"),
        (secret, before, after, start, extra, space) => {
          fc.pre(secret.length >= QUOTE_MIN_CHARS)
          const from = start % (secret.length - QUOTE_MIN_CHARS + 1)
          const to = Math.min(secret.length, from + QUOTE_MIN_CHARS + (extra % 40))
          const quote = secret.slice(from, to).replace(/ /g, space)
          const detector = quoteDetector([{ dataset: "gpqa", texts: ["unrelated text", secret] }])
          assert.strictEqual(detector.quotes(`${before}${quote}${after}`), "gpqa")
          assert.strictEqual(detector.quotes(secret), "gpqa")
        }
      ),
      { numRuns: 300 }
    ))

  it("property: a text sharing no 32-character run with any protected text is not flagged", () =>
    fc.assert(
      fc.property(wordy(1, 40), fc.stringMatching(/^[f-z ]{0,300}$/), (secret, other) => {
        const detector = quoteDetector([{ dataset: "gpqa", texts: [secret] }])
        assert.isUndefined(detector.quotes(other))
      }),
      { numRuns: 300 }
    ))

  it("a protected text embedded in JSON (escaped newlines and quotes) is found", () => {
    const secret = 'Line one of the "question", long enough to matter.\nLine two, also long enough.'
    const detector = quoteDetector([{ dataset: "gpqa", texts: [secret] }])
    assert.strictEqual(detector.quotes(`traces: ${JSON.stringify({ q: secret })}`), "gpqa")
    assert.strictEqual(detector.quotes(`traces: ${JSON.stringify({ q: secret.slice(20) })}`), "gpqa")
  })

  it("a short protected text is found when quoted whole; no protected text flags nothing", () => {
    const detector = quoteDetector([
      { dataset: "a", texts: ["short one"] },
      { dataset: "b", texts: ["x".repeat(100)] }
    ])
    assert.strictEqual(detector.quotes("this has a short  one inside"), "a")
    assert.strictEqual(detector.quotes(`prefix ${"x".repeat(60)}`), "b")
    assert.isUndefined(detector.quotes("short"))
    assert.isUndefined(quoteDetector([]).quotes("anything at all"))
    assert.deepStrictEqual(detector.datasets, ["a", "b"])
  })
})

const QUESTIONS = [
  "Which of the following exoplanets, observed through transit photometry, has the highest density?",
  "A solution of 0.1 M acetic acid is titrated with 0.1 M sodium hydroxide; what is the pH at the equivalence point?"
]

const entry = (content: string, text: string, sampleIndex = 0) => {
  const input = cacheKeyInput("openai", {
    model: "m",
    messages: [
      { role: "system", content: "You are careful." },
      { role: "user", content }
    ],
    temperature: 0,
    maxTokens: 64,
    seed: 1,
    sampleIndex
  })
  return { input, key: cacheKey(input), text, usage: { promptTokens: 10, completionTokens: 3 } }
}

const ENTRIES = [
  entry(`Question: ${QUESTIONS[0]}\nAnswer with a letter.`, "<answer>B</answer>"),
  // Quoted inside an optimizer's trace, with its whitespace changed.
  entry(`Trace:\n[solver] ${QUESTIONS[1]!.slice(10, 80).replace(/ /g, "\n")} ...`, "Improve the prompt."),
  // An answer quoting the question: kept (a replay needs it), and counted.
  entry(`Question: ${QUESTIONS[1]}`, `Restating: ${QUESTIONS[1]}`),
  entry("What is 2 + 3?", "5"),
  entry("What is 2 + 3?", "five", 1)
]

const fill = (path: string) =>
  Effect.gen(function* () {
    const store = yield* openCallStore(path)
    for (const e of ENTRIES) yield* store.put(e.key, e.input, { text: e.text, usage: e.usage })
    yield* store.close
  })

const decompressed = (file: string) => gunzipSync(readFileSync(file)).toString("utf8")

describe("exports for publishing", () => {
  it.effect("withhold every request quoting a protected text; the export still replays", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      yield* fill(join(dir, "a.sqlite"))
      const withhold = [{ dataset: "gpqa", texts: QUESTIONS }]
      const counts = yield* exportCache(join(dir, "a.sqlite"), join(dir, "pub.jsonl.gz"), { withhold })
      assert.deepStrictEqual(counts, { written: 5, withheld: { gpqa: 3 }, quotingAnswers: { gpqa: 1 } })
      const text = decompressed(join(dir, "pub.jsonl.gz"))
      // No request of the export quotes a question (the answer quoting one is the documented limit).
      const requests = text
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as { request?: unknown; text: string })
      for (const l of requests) {
        const json = JSON.stringify(l.request ?? null)
        for (const q of QUESTIONS) assert.notInclude(json, q.slice(0, 40))
      }
      assert.strictEqual(requests.filter((l) => l.request === undefined).length, 3)
      // The full export still has them all.
      const full = yield* exportCache(join(dir, "a.sqlite"), join(dir, "full.jsonl.gz"))
      assert.deepStrictEqual(full.withheld, {})
      assert.include(decompressed(join(dir, "full.jsonl.gz")), QUESTIONS[0]!)

      // Replayed straight from the export, and imported: every answer is served by key.
      const snapshot = yield* replaySnapshot(join(dir, "pub.jsonl.gz"))
      for (const e of ENTRIES) assert.strictEqual((yield* snapshot.lookup(e.key))?.text, e.text)
      const imported = yield* importCache(join(dir, "pub.jsonl.gz"), join(dir, "b.sqlite"))
      assert.deepStrictEqual(imported, { read: 5, inserted: 5, skipped: 0, withheld: 3, discarded: 0 })
      const store = yield* openCallStore(join(dir, "b.sqlite"))
      for (const e of ENTRIES) assert.strictEqual((yield* store.lookup(e.key))?.text, e.text)
      yield* store.close
      assert.deepStrictEqual(yield* cacheStats(join(dir, "b.sqlite")), {
        entries: 5,
        withheld: { gpqa: 3 },
        datasets: []
      })
      // Exported again, with or without the texts at hand, the withheld entries stay withheld.
      yield* exportCache(join(dir, "b.sqlite"), join(dir, "again.jsonl.gz"))
      assert.isTrue(readFileSync(join(dir, "again.jsonl.gz")).equals(readFileSync(join(dir, "pub.jsonl.gz"))))
    })
  )

  it.effect("a withheld line is checked for what it can be: a sha256 key, a dataset, no other field", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      yield* fill(join(dir, "a.sqlite"))
      yield* exportCache(join(dir, "a.sqlite"), join(dir, "pub.jsonl.gz"), {
        withhold: [{ dataset: "gpqa", texts: QUESTIONS }]
      })
      const lines = decompressed(join(dir, "pub.jsonl.gz"))
        .split("\n")
        .filter((l) => l !== "")
      const at = lines.findIndex((l) => l.includes('"withheld"'))
      const bad = (mutate: (line: Record<string, unknown>) => void) => {
        const copy = [...lines]
        const line = JSON.parse(copy[at]!) as Record<string, unknown>
        mutate(line)
        copy[at] = JSON.stringify(line)
        const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.jsonl.gz`)
        writeFileSync(file, gzipSync(`${copy.join("\n")}\n`))
        return file
      }
      const rejects = (file: string, ...words: Array<string>) =>
        Effect.gen(function* () {
          const error = yield* Effect.flip(importCache(file, join(dir, "t.sqlite")))
          assert.strictEqual(error._tag, "InputError")
          if (error._tag !== "InputError") return
          assert.strictEqual(error.source, `${file}:${at + 1}`)
          for (const w of words) assert.include(error.message, w)
        })
      yield* rejects(
        bad((l) => (l.key = "not-a-hash")),
        "field key",
        "sha256"
      )
      yield* rejects(
        bad((l) => (l.withheld = "")),
        "field withheld"
      )
      yield* rejects(
        bad((l) => (l.request = { v: 1 })),
        "request"
      )
      yield* rejects(
        bad((l) => (l.extra = 1)),
        "extra"
      )
    })
  )
})
