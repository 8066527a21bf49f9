import { afterAll, describe, expect, it } from "@effect/vitest"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { gunzipSync } from "node:zlib"
import { filesUnder, runCli } from "./cliProcess.ts"

/**
 * GPQA's questions must not be republished: the cache export `maspo run` writes beside its tables
 * holds none of them, and a replay from that export alone reproduces the run with no live call.
 */

const root = fileURLToPath(new URL("../../..", import.meta.url))
const dataDir = join(root, "..", "shared", "datasets")
const work = mkdtempSync(join(tmpdir(), "maspo-publish-gpqa-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const experiment = (out: string) => ({
  name: "gpqa-publish",
  out,
  dataDir,
  tasks: ["gpqa"],
  topologies: ["sequential"],
  methods: [
    { name: "seed", kind: "seed" },
    { name: "maspo", kind: "maspo", optimizer: { rounds: 1, stepsPerVisit: 1, batchSize: 3 } }
  ],
  seeds: [1],
  testN: 6
})

/** Every output file but the manifests (wall-clock times) and the export, with the live/hit split blanked. */
const outputs = (out: string) =>
  Object.fromEntries(
    filesUnder(out)
      .filter((f) => !f.endsWith("manifest.json") && !f.endsWith(".gz") && !f.endsWith(".sqlite"))
      .map((f) => [
        f,
        readFileSync(join(out, f), "utf8").replace(/"(liveCalls|cacheHits)":\s*\d+/g, '"$1":0')
      ])
  )

const liveCalls = (out: string) =>
  filesUnder(join(out, "cells"))
    .filter((f) => f.endsWith("manifest.json"))
    .map(
      (f) =>
        (JSON.parse(readFileSync(join(out, "cells", f), "utf8")) as { cache: { liveCalls: number } }).cache
    )
    .reduce((a, c) => a + c.liveCalls, 0)

describe("a published GPQA experiment", () => {
  it("its exported cache holds no GPQA question, and replays the run with no live call", async () => {
    const out = join(work, "run")
    const config = join(work, "gpqa.json")
    writeFileSync(config, JSON.stringify(experiment(out)))
    const r = await runCli(["run", config], { cwd: work })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const m = /withheld the request of (\d+) entries quoting protected text \(gpqa (\d+)\)/.exec(r.stdout)
    expect(m).not.toBeNull()
    expect(Number(m![1])).toBeGreaterThan(0)
    expect(r.stdout).not.toContain("answers quote protected text")

    const exported = gunzipSync(readFileSync(join(out, "cache.jsonl.gz"))).toString("utf8")
    const lines = exported.split("\n").filter((l) => l !== "")
    expect(lines.filter((l) => l.includes('"withheld":"gpqa"')).length).toBe(Number(m![1]))
    // Every question of the file, whole and line by line, raw and as JSON writes it: none is there.
    const questions = readFileSync(join(dataDir, "gpqa", "gpqa_diamond.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => (JSON.parse(l) as { question: string }).question)
    expect(questions.length).toBe(198)
    const escaped = (s: string) => JSON.stringify(s).slice(1, -1)
    for (const q of questions) {
      expect(exported.includes(q) || exported.includes(escaped(q))).toBe(false)
      for (const part of q.split("\n").filter((p) => p.length >= 48))
        expect(exported.includes(part) || exported.includes(escaped(part)), part.slice(0, 60)).toBe(false)
    }

    // `maspo cache export` writes the same file and says what it withheld; it refuses to export a
    // cache holding GPQA calls when it cannot read the questions; --keep-protected keeps them.
    const cache = join(out, "cache.sqlite")
    const e = await runCli(["cache", "export", join(work, "pub.jsonl.gz"), "--cache", cache], { cwd: work })
    expect(e.code).toBe(0)
    expect(e.stdout).toContain(
      `withheld the request of ${m![1]} entries quoting protected text (gpqa ${m![1]})`
    )
    expect(readFileSync(join(work, "pub.jsonl.gz"))).toEqual(readFileSync(join(out, "cache.jsonl.gz")))
    const noData = await runCli(
      ["cache", "export", join(work, "nodata.jsonl.gz"), "--cache", cache, "--data-dir", join(work, "none")],
      { cwd: work }
    )
    expect(noData.code).toBe(1)
    expect(noData.stderr).toContain("the cache holds calls about gpqa")
    expect(existsSync(join(work, "nodata.jsonl.gz"))).toBe(false)
    const full = await runCli(
      ["cache", "export", join(work, "full.jsonl.gz"), "--cache", cache, "--keep-protected"],
      { cwd: work }
    )
    expect(full.code).toBe(0)
    expect(full.stdout).toContain("not for publishing")
    const fullText = gunzipSync(readFileSync(join(work, "full.jsonl.gz"))).toString("utf8")
    expect(questions.some((q) => fullText.includes(JSON.stringify(q).slice(1, -1)))).toBe(true)

    // A replay from that export alone, in another directory, reproduces every file.
    const check = join(work, "check")
    mkdirSync(check)
    copyFileSync(join(out, "cache.jsonl.gz"), join(check, "cache.jsonl.gz"))
    const p = await runCli(["run", config, "--replay", "--out", check], { cwd: work })
    expect(p.stderr).toBe("")
    expect(p.code).toBe(0)
    expect(liveCalls(check)).toBe(0)
    const expected = outputs(out)
    expect(Object.keys(expected).length).toBeGreaterThan(10)
    expect(outputs(check)).toEqual(expected)

    // Imported into a fresh cache (seeding a rerun), the withheld entries are counted and serve it.
    const seeded = join(work, "seeded")
    mkdirSync(seeded)
    copyFileSync(join(out, "cache.jsonl.gz"), join(seeded, "cache.jsonl.gz"))
    const s = await runCli(["run", config, "--out", seeded], { cwd: work })
    expect(s.code).toBe(0)
    expect(liveCalls(seeded)).toBe(0)
    expect(outputs(seeded)).toEqual(expected)
    const stats = await runCli(["cache", "stats", "--cache", join(seeded, "cache.sqlite")], { cwd: work })
    expect(stats.stdout).toContain(`with the request withheld (imported so): gpqa ${m![1]}`)
    expect(stats.stdout).toContain("calls recorded about: gpqa")
    // And exported again it stays free of GPQA questions, byte for byte the published file.
    expect(readFileSync(join(seeded, "cache.jsonl.gz"))).toEqual(readFileSync(join(out, "cache.jsonl.gz")))
  }, 300_000)
})
