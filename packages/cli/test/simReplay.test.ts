import { afterAll, describe, expect, it } from "@effect/vitest"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runCli } from "./cliProcess.ts"

/**
 * Every committed experiment is replayable from what is committed: its config is in results/*.json,
 * its export (`<out>/cache.jsonl.gz`) beside its cells, and `maspo run CONFIG --replay` recomputes
 * every cell with no live call and writes byte-identical tables and plots.
 */

const root = fileURLToPath(new URL("../../..", import.meta.url))
const work = mkdtempSync(join(tmpdir(), "maspo-sim-replay-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface Experiment {
  readonly file: string
  readonly out: string
  readonly cacheMode: string | undefined
}

/** The experiment configs among results/*.json (results/bench.json is not one). */
const experiments: ReadonlyArray<Experiment> = readdirSync(join(root, "results"))
  .filter((f) => f.endsWith(".json"))
  .flatMap((f) => {
    const json = JSON.parse(readFileSync(join(root, "results", f), "utf8")) as Record<string, unknown>
    if (typeof json["out"] !== "string" || !Array.isArray(json["methods"])) return []
    const cache = json["cache"] as { mode?: string } | undefined
    return [{ file: `results/${f}`, out: json["out"], cacheMode: cache?.mode }]
  })
const committed = experiments.filter((e) => existsSync(join(root, e.out, "cells")))

describe("committed experiments", () => {
  it("each has its cache export committed and a config that caches", () => {
    expect(experiments.map((e) => e.file)).toContain("results/sim-table.json")
    expect(committed.map((e) => e.out).sort()).toEqual(["results/sim", "results/sim-baselines"])
    for (const e of committed) {
      expect(existsSync(join(root, e.out, "cache.jsonl.gz")), `${e.out}/cache.jsonl.gz`).toBe(true)
      // With the cache off, rerunning the config would write no export to replay from.
      expect(e.cacheMode, `${e.file}: cache.mode`).not.toBe("off")
    }
  })

  // Both replay in full: results/sim holds 148,706 cached calls, results/sim-baselines 252,755
  // (about 30 s of CPU).
  for (const e of committed)
    it(`${e.out} replays byte-identically from the committed cache`, async () => {
      const out = join(work, e.out.replace(/\//g, "_"))
      // A replay reads the output directory's export, as a user checking the published results would.
      mkdirSync(out)
      copyFileSync(join(root, e.out, "cache.jsonl.gz"), join(out, "cache.jsonl.gz"))
      const r = await runCli(["run", e.file, "--replay", "--out", out], { cwd: root })
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(/cache hits 100\.0%/)
      for (const dir of ["tables", "plots"]) {
        const expected = readdirSync(join(root, e.out, dir)).sort()
        expect(readdirSync(join(out, dir)).sort()).toEqual(expected)
        for (const f of expected)
          expect(readFileSync(join(out, dir, f), "utf8"), `${e.out}/${dir}/${f}`).toBe(
            readFileSync(join(root, e.out, dir, f), "utf8")
          )
      }
    }, 600_000)
})
