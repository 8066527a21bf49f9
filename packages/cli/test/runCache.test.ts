import { afterAll, describe, expect, it } from "@effect/vitest"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cacheKey, cacheKeyInput } from "@maspo/core/cache"
import { spawn } from "node:child_process"
import { gunzipSync, gzipSync } from "node:zlib"
import { cliArgv, filesUnder, runCli } from "./cliProcess.ts"

/** `maspo run` and its cache export: which export a run with `--out DIR` reads, seeds from and writes. */

const work = mkdtempSync(join(tmpdir(), "maspo-run-cache-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

export const tinyExperiment = (out: string) => ({
  name: "tiny-cache",
  out,
  tasks: ["arith"],
  topologies: ["sequential"],
  methods: [
    { name: "seed", kind: "seed" },
    { name: "maspo", kind: "maspo", optimizer: { rounds: 1, stepsPerVisit: 1, batchSize: 4, poolSize: 8 } }
  ],
  seeds: [1],
  testN: 12
})

export const tablesOf = (out: string) =>
  Object.fromEntries(
    ["tables", "plots"].flatMap((d) =>
      filesUnder(join(out, d)).map((f) => [join(d, f), readFileSync(join(out, d, f), "utf8")])
    )
  )

/** Live calls and cache hits summed over the cells' manifests. */
export const manifestCalls = (out: string) => {
  let live = 0
  let hits = 0
  for (const f of filesUnder(join(out, "cells")).filter((f) => f.endsWith("manifest.json"))) {
    const m = JSON.parse(readFileSync(join(out, "cells", f), "utf8")) as {
      cache: { liveCalls: number; cacheHits: number }
    }
    live += m.cache.liveCalls
    hits += m.cache.cacheHits
  }
  return { live, hits }
}

describe("maspo run --out DIR and the cache export", () => {
  it("reads, seeds from and writes DIR's export, not the config's out", async () => {
    const original = join(work, "original")
    const config = join(work, "tiny.json")
    writeFileSync(config, JSON.stringify(tinyExperiment(original)))
    const a = await runCli(["run", config], { cwd: work })
    expect(a.stderr).toBe("")
    expect(a.code).toBe(0)
    const published = join(original, "cache.jsonl.gz")
    expect(existsSync(published)).toBe(true)
    expect(manifestCalls(original).live).toBeGreaterThan(0)
    const expected = tablesOf(original)
    expect(Object.keys(expected).length).toBeGreaterThan(3)

    // The config's out now has no export: a run that read it could neither replay nor seed.
    const moved = join(work, "moved.jsonl.gz")
    copyFileSync(published, moved)
    rmSync(original, { recursive: true })

    const check = join(work, "check")
    mkdirSync(check)
    copyFileSync(moved, join(check, "cache.jsonl.gz"))
    const r = await runCli(["run", config, "--replay", "--out", check], { cwd: work })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`from ${check}/cache.jsonl.gz`)
    expect(manifestCalls(check).live).toBe(0)
    expect(tablesOf(check)).toEqual(expected)
    expect(existsSync(original)).toBe(false)

    // Not replaying: the cache is seeded from DIR's export, every call is a hit, DIR's export is written.
    const seeded = join(work, "seeded")
    mkdirSync(seeded)
    copyFileSync(moved, join(seeded, "cache.jsonl.gz"))
    const s = await runCli(["run", config, "--out", seeded], { cwd: work })
    expect(s.stderr).toBe("")
    expect(s.code).toBe(0)
    expect(s.stdout).toMatch(new RegExp(`cache: \\d+ calls loaded from ${seeded}/cache.jsonl.gz`))
    expect(manifestCalls(seeded)).toMatchObject({ live: 0 })
    expect(manifestCalls(seeded).hits).toBeGreaterThan(0)
    expect(tablesOf(seeded)).toEqual(expected)
    expect(readFileSync(join(seeded, "cache.jsonl.gz"))).toEqual(readFileSync(moved))
    expect(existsSync(original)).toBe(false)

    // A replay into a directory without an export is an error naming DIR's export.
    const empty = join(work, "empty")
    const e = await runCli(["run", config, "--replay", "--out", empty], { cwd: work })
    expect(e.code).toBe(1)
    expect(e.stderr).toContain(`${empty}/cache.jsonl.gz`)
  }, 240_000)

  it("a run killed while it loads the export restarts, imports it again and makes no live call", async () => {
    const original = join(work, "kill-original")
    const config = join(work, "kill.json")
    writeFileSync(config, JSON.stringify(tinyExperiment(original)))
    const a = await runCli(["run", config], { cwd: work })
    expect(a.code).toBe(0)
    const expected = tablesOf(original)

    // The run's export plus many unrelated valid entries, so that loading it takes long enough to be
    // killed in the middle (the order of lines does not matter to an import).
    const real = gunzipSync(readFileSync(join(original, "cache.jsonl.gz")))
      .toString("utf8")
      .trimEnd()
      .split("\n")
    const filler = Array.from({ length: 60_000 }, (_, i) => {
      const request = cacheKeyInput("sim", {
        model: "filler",
        messages: [{ role: "user", content: `filler question ${i}` }],
        temperature: 0,
        maxTokens: 16,
        seed: 0,
        sampleIndex: 0
      })
      return JSON.stringify({
        key: cacheKey(request),
        provider: "sim",
        model: "filler",
        request,
        text: `filler answer ${i}`,
        usage: { promptTokens: 3, completionTokens: 3 }
      })
    })
    const out = join(work, "kill")
    mkdirSync(out)
    writeFileSync(join(out, "cache.jsonl.gz"), gzipSync(`${[...filler, ...real].join("\n")}\n`))

    const partials = () => readdirSync(out).filter((f) => /^cache\.sqlite\.importing-\d+$/.test(f))
    const killed = await new Promise<{ sawPartial: boolean; signal: NodeJS.Signals | null }>((resolve) => {
      const child = spawn(process.execPath, cliArgv(["run", config, "--out", out]), {
        cwd: work,
        stdio: "ignore"
      })
      let sawPartial = false
      const timer = setInterval(() => {
        if (!sawPartial && partials().length > 0) {
          sawPartial = true
          child.kill("SIGKILL")
        }
      }, 5)
      child.on("exit", (_code, signal) => {
        clearInterval(timer)
        resolve({ sawPartial, signal })
      })
    })
    expect(killed).toEqual({ sawPartial: true, signal: "SIGKILL" })
    // The cache file itself was never created half-filled: only the partial file is there.
    expect(existsSync(join(out, "cache.sqlite"))).toBe(false)
    expect(partials().length).toBe(1)

    const b = await runCli(["run", config, "--out", out], { cwd: work })
    expect(b.stderr).toBe("")
    expect(b.code).toBe(0)
    expect(b.stdout).toContain("cache: removed 1 interrupted import(s)")
    expect(b.stdout).toContain(
      `cache: ${filler.length + real.length} calls loaded from ${out}/cache.jsonl.gz`
    )
    expect(b.stdout).toMatch(/cache hits 100\.0%/)
    const calls = manifestCalls(out)
    expect(calls.live).toBe(0)
    expect(calls.hits).toBeGreaterThan(0)
    expect(tablesOf(out)).toEqual(expected)
    expect(partials()).toEqual([])

    // Run again in place: the cache holds the export it wrote, so nothing is imported.
    const c = await runCli(["run", config, "--out", out], { cwd: work })
    expect(c.code).toBe(0)
    expect(c.stdout).not.toContain("calls loaded")
  }, 300_000)
})
