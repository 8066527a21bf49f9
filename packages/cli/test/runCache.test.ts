import { afterAll, describe, expect, it } from "@effect/vitest"
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync
} from "node:fs"
import { writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli } from "./cliProcess.ts"

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

const filesUnder = (dir: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((f) => {
        const p = join(dir, f)
        return statSync(p).isDirectory() ? filesUnder(p).map((x) => join(f, x)) : [f]
      })
    : []

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
})
