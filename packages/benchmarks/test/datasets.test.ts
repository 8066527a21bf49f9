import { assert, describe, expect, it } from "@effect/vitest"
import { InputError } from "@maspo/core"
import { Effect, Result, Schema } from "effect"
import * as fc from "fast-check"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import {
  DATASET_NAMES,
  DATASETS,
  decodeLines,
  describeIssue,
  formatPath,
  loadDataset,
  mbppEntryPoint,
  repoRoot,
  resolveDataDir,
  sha256Hex
} from "../src/datasets/index.ts"

const dataDir = resolveDataDir()

const expectedCounts: Record<string, number> = {
  math500: 500,
  "agieval-math": 256,
  aqua: 508,
  gpqa: 198,
  mbpp: 427,
  "humaneval-et": 164
}

const failure = <A>(effect: Effect.Effect<A, InputError>) =>
  Effect.flip(effect).pipe(Effect.map((e) => ({ source: e.source, message: e.message })))

const Row = Schema.Struct({ id: Schema.Number, answer: Schema.String, tags: Schema.Array(Schema.String) })

describe("data directory", () => {
  it("resolves explicit > MASPO_DATA_DIR > <repo root>/../shared/datasets", () => {
    const saved = process.env["MASPO_DATA_DIR"]
    try {
      delete process.env["MASPO_DATA_DIR"]
      expect(resolveDataDir()).toBe(path.resolve(repoRoot()!, "../shared/datasets"))
      process.env["MASPO_DATA_DIR"] = "/tmp/somewhere"
      expect(resolveDataDir()).toBe("/tmp/somewhere")
      expect(resolveDataDir("/tmp/explicit")).toBe("/tmp/explicit")
    } finally {
      if (saved === undefined) delete process.env["MASPO_DATA_DIR"]
      else process.env["MASPO_DATA_DIR"] = saved
    }
  })

  it("repo root is the directory holding the workspace package.json", () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot()!, "package.json"), "utf8")) as {
      workspaces?: unknown
    }
    expect(pkg.workspaces).toEqual(["packages/*"])
  })

  it("repo root is found from any depth below it (the source module and the CLI bundle)", () => {
    const root = repoRoot()!
    expect(root).toBe(path.resolve(import.meta.dirname, "../../.."))
    expect(repoRoot(path.join(root, "node_modules/.cache/maspo"))).toBe(root)
    expect(repoRoot(path.join(root, "packages/benchmarks/src/datasets"))).toBe(root)
    // A package.json without `workspaces` (a package's own) is passed over.
    expect(repoRoot(path.join(root, "packages/benchmarks"))).toBe(root)
    expect(repoRoot(tmpdir())).toBeUndefined()
  })

  it("the data is present (CI keeps it beside the repo; missing data must fail, not skip)", () => {
    for (const d of Object.values(DATASETS))
      for (const f of d.files) assert.isTrue(existsSync(path.join(dataDir, f.path)), `${dataDir}/${f.path}`)
  })
})

describe("decodeLines", () => {
  const tmp = mkdtempSync(path.join(tmpdir(), "maspo-jsonl-"))

  it.effect("decodes good lines and skips blank ones", () =>
    Effect.gen(function* () {
      const text = '{"id":1,"answer":"x","tags":[]}\n\n{"id":2,"answer":"y","tags":["a"],"extra":true}\n'
      const rows = yield* decodeLines("ok.jsonl", text, Row)
      expect(rows.map((r) => r.id)).toEqual([1, 2])
    })
  )

  it.effect("a hostile fixture on disk: bad JSON on line 3", () =>
    Effect.gen(function* () {
      const file = path.join(tmp, "bad-json.jsonl")
      writeFileSync(
        file,
        '{"id":1,"answer":"a","tags":[]}\n{"id":2,"answer":"b","tags":[]}\n{"id":3,"answer":\n'
      )
      const e = yield* failure(decodeLines("bad-json.jsonl", readFileSync(file, "utf8"), Row))
      expect(e.source).toBe("bad-json.jsonl:3")
      expect(e.message).toMatch(/^invalid JSON/)
    })
  )

  it.effect("missing field on line 2", () =>
    Effect.gen(function* () {
      const file = path.join(tmp, "missing.jsonl")
      writeFileSync(file, '{"id":1,"answer":"a","tags":[]}\n{"id":2,"tags":[]}\n')
      const e = yield* failure(decodeLines("missing.jsonl", readFileSync(file, "utf8"), Row))
      expect(e).toEqual({ source: "missing.jsonl:2", message: "field 'answer': missing" })
    })
  )

  it.effect("wrong type names the field, the expected and the actual type", () =>
    Effect.gen(function* () {
      const file = path.join(tmp, "math_500.jsonl")
      const lines = Array.from({ length: 16 }, (_, i) =>
        JSON.stringify({ id: i, answer: String(i), tags: [] })
      )
      lines.push(JSON.stringify({ id: 16, answer: 17, tags: [] }))
      writeFileSync(file, lines.join("\n"))
      const e = yield* failure(decodeLines("math_500.jsonl", readFileSync(file, "utf8"), Row))
      expect(e).toEqual({
        source: "math_500.jsonl:17",
        message: "field 'answer': expected string, got number"
      })
    })
  )

  it.effect("nested path and non-object lines", () =>
    Effect.gen(function* () {
      const nested = yield* failure(decodeLines("f", '{"id":1,"answer":"a","tags":["x",2]}', Row))
      expect(nested).toEqual({ source: "f:1", message: "field 'tags[1]': expected string, got number" })
      const arr = yield* failure(decodeLines("f", "[1,2]", Row))
      expect(arr).toEqual({ source: "f:1", message: "expected object, got array" })
      const nul = yield* failure(decodeLines("f", '{"id":null,"answer":"a","tags":[]}', Row))
      expect(nul.message).toBe("field 'id': expected number, got null")
      const Letter = Schema.Struct({ correct: Schema.Literals(["A", "B"]) })
      const letter = yield* failure(decodeLines("f", '{"correct":"F"}', Letter))
      expect(letter.message).toBe(`field 'correct': expected "A" | "B", got string "F"`)
    })
  )

  it("reports the first bad line of arbitrary good/bad sequences (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 30 }), (good) => {
        const text = good
          .map((g, i) =>
            JSON.stringify(g ? { id: i, answer: "a", tags: [] } : { id: i, answer: i, tags: [] })
          )
          .join("\n")
        const exit = Effect.runSync(Effect.exit(decodeLines("p.jsonl", text, Row)))
        const firstBad = good.indexOf(false)
        if (firstBad < 0) return exit._tag === "Success"
        const e = Effect.runSync(Effect.flip(decodeLines("p.jsonl", text, Row)))
        return e.source === `p.jsonl:${firstBad + 1}` && e.message.startsWith("field 'answer'")
      })
    )
  })

  it("formatPath and describeIssue helpers", () => {
    expect(formatPath(["a", 0, "b"])).toBe("a[0].b")
    expect(formatPath([])).toBe("")
    const input = { id: "1", answer: "a", tags: [] }
    const r = Schema.decodeUnknownResult(Row)(input)
    if (!Result.isFailure(r)) return assert.fail("expected a failure")
    expect(describeIssue(r.failure.issue, input)).toBe("field 'id': expected number, got string \"1\"")
  })
})

describe("loadDataset", () => {
  it("pinned hashes match SHA256SUMS", () => {
    const sums = new Map(
      readFileSync(path.join(dataDir, "SHA256SUMS"), "utf8")
        .trim()
        .split("\n")
        .map((l) => {
          const [hash, file] = l.split(/\s+/)
          return [file!.replace(/^\.\//, ""), hash!] as const
        })
    )
    const pinned = Object.values(DATASETS).flatMap((d) => d.files)
    expect(pinned.length).toBe(sums.size)
    for (const f of pinned) expect(f.sha256).toBe(sums.get(f.path))
  })

  for (const name of DATASET_NAMES) {
    it.effect(`${name}: loads every item with unique stable ids`, () =>
      Effect.gen(function* () {
        const items = yield* loadDataset(name, dataDir)
        expect(items.length).toBe(expectedCounts[name])
        expect(new Set(items.map((i) => i.id)).size).toBe(items.length)
        for (const item of items) {
          expect(item.id.startsWith(`${name}/`)).toBe(true)
          expect(item.question.length).toBeGreaterThan(0)
          expect(item.gold.length).toBeGreaterThan(0)
        }
      })
    )
  }

  it.effect("item shapes per set", () =>
    Effect.gen(function* () {
      const math = yield* loadDataset("math500", dataDir)
      expect(math[0]!.id).toBe("math500/test/precalculus/807.json")
      expect(math[0]!.gold).toBe("\\left( 3, \\frac{\\pi}{2} \\right)")
      expect(math[0]!.question).toMatch(/^Convert the point/)

      const agi = yield* loadDataset("agieval-math", dataDir)
      expect(agi[0]!.id).toBe("agieval-math/0")
      expect(agi[0]!.gold).toBe("(3,4]")

      const aqua = yield* loadDataset("aqua", dataDir)
      expect(aqua[0]!.id).toBe("aqua/test/0")
      expect(aqua[254]!.id).toBe("aqua/val/0")
      expect(aqua[254]!.meta?.["split"]).toBe("val")
      expect(aqua[254]!.question.split("\n").slice(-5)).toEqual([
        "A)32400",
        "B)6000",
        "C)600",
        "D)60000",
        "E)10"
      ])
      expect(aqua[254]!.gold).toBe("A")
      for (const i of aqua) expect("ABCDE").toContain(i.gold)

      const gpqa = yield* loadDataset("gpqa", dataDir)
      expect(gpqa[0]!.id).toBe("gpqa/0")
      for (const i of gpqa) expect(["A", "B", "C", "D"]).toContain(i.gold)

      const mbpp = yield* loadDataset("mbpp", dataDir)
      const m2 = mbpp.find((i) => i.id === "mbpp/2")!
      expect(m2.question).toBe(
        "Write a function to find the shared elements from the given two lists.\nYour code should pass these tests:\n" +
          "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"
      )
      expect(m2.meta?.["entryPoint"]).toBe("similar_elements")
      expect(m2.meta?.["testImports"]).toEqual([])
      expect((m2.meta?.["tests"] as ReadonlyArray<string>).length).toBe(3)
      expect(m2.gold).toMatch(/^def similar_elements/)
      // helpers defined first: the entry point is the function the tests call
      expect(mbpp.find((i) => i.id === "mbpp/6")!.meta?.["entryPoint"]).toBe("differ_At_One_Bit_Pos")
      for (const i of mbpp) {
        const ep = i.meta?.["entryPoint"] as string
        expect((i.meta?.["tests"] as ReadonlyArray<string>)[0]).toContain(ep)
      }

      const he = yield* loadDataset("humaneval-et", dataDir)
      expect(he[0]!.id).toBe("humaneval-et/0")
      expect(he[163]!.id).toBe("humaneval-et/163")
      expect(he[0]!.meta?.["entryPoint"]).toBe("has_close_elements")
      expect(he[0]!.gold.startsWith(he[0]!.question)).toBe(true)
      expect(he[0]!.meta?.["prompt"]).toBe(he[0]!.question)
      expect(he[0]!.meta?.["test"]).toContain("def check(candidate)")
    })
  )

  it("mbppEntryPoint", () => {
    expect(mbppEntryPoint("def a(x):\n  return x\ndef b(y):\n  return a(y)", ["assert b(1) == 1"])).toBe("b")
    expect(mbppEntryPoint("def a(x):\n  return x", ["assert c(1) == 1"])).toBe("a")
    expect(mbppEntryPoint("x = 1", [])).toBeUndefined()
  })

  it.effect("a file whose hash does not match is rejected, naming the file and both hashes", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(path.join(tmpdir(), "maspo-data-"))
      mkdirSync(path.join(dir, "gpqa"))
      const content = '{"question":"Q? A. 1 B. 2 C. 3 D. 4","answer":"A"}\n'
      writeFileSync(path.join(dir, "gpqa", "gpqa_diamond.jsonl"), content)
      const e = yield* failure(loadDataset("gpqa", dir))
      expect(e.source).toBe("gpqa/gpqa_diamond.jsonl")
      expect(e.message).toContain(DATASETS.gpqa.files[0]!.sha256)
      expect(e.message).toContain(sha256Hex(content))
      expect(e.message).toContain("gpqa/gpqa_diamond.jsonl")
    })
  )

  it.effect("a file failing its checksum because of one broken line names that line (property)", () =>
    Effect.gen(function* () {
      const file = DATASETS.math500.files[0]!
      const lines = readFileSync(path.join(dataDir, file.path), "utf8").split("\n")
      const dir = mkdtempSync(path.join(tmpdir(), "maspo-broken-"))
      mkdirSync(path.join(dir, path.dirname(file.path)), { recursive: true })
      const rows = lines.filter((l) => l.trim() !== "").length
      // One line broken in one of three ways: cut short, a field of the wrong type, a field missing.
      const breaks = [
        (l: string) => l.slice(0, Math.floor(l.length / 2)),
        (l: string) => JSON.stringify({ ...JSON.parse(l), answer: 42 }),
        (l: string) => {
          const { problem: _, ...rest } = JSON.parse(l) as Record<string, unknown>
          return JSON.stringify(rest)
        }
      ]
      const expected = [
        "invalid JSON",
        "field 'answer': expected string, got number",
        "field 'problem': missing"
      ]
      const cases = fc.sample(fc.tuple(fc.integer({ min: 1, max: rows }), fc.integer({ min: 0, max: 2 })), {
        numRuns: 12,
        seed: 7
      })
      for (const [line, how] of cases) {
        const broken = lines.map((l, i) => (i === line - 1 ? breaks[how]!(l) : l))
        writeFileSync(path.join(dir, file.path), broken.join("\n"))
        const e = yield* failure(loadDataset("math500", dir))
        expect(e.source).toBe(`${file.path}:${line}`)
        expect(e.message).toContain(expected[how])
        expect(e.message).toContain(`sha256 mismatch for ${file.path}`)
      }
      // Every line decodes but one value changed: the checksum alone says so, naming the file.
      writeFileSync(
        path.join(dir, file.path),
        lines
          .map((l, i) => (i === 0 ? JSON.stringify({ ...JSON.parse(l), answer: "changed" }) : l))
          .join("\n")
      )
      const changed = yield* failure(loadDataset("math500", dir))
      expect(changed.source).toBe(file.path)
      expect(changed.message).toContain(`sha256 mismatch for ${file.path}: expected ${file.sha256}`)
    })
  )

  it.effect("a missing file and an unknown dataset are InputErrors", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(path.join(tmpdir(), "maspo-empty-"))
      const missing = yield* failure(loadDataset("mbpp", dir))
      expect(missing.source).toBe("mbpp/sanitized-mbpp.jsonl")
      expect(missing.message).toContain("MASPO_DATA_DIR")
      const unknown = yield* failure(loadDataset("nope", dataDir))
      expect(unknown.message).toContain("unknown dataset 'nope'")
    })
  )
})
