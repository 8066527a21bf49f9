import { afterAll, describe, expect, it } from "@effect/vitest"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runCli } from "./cliProcess.ts"

/**
 * The committed simulator experiment (results/sim) is reproduced exactly from its committed cache:
 * `maspo run results/sim-table.json --replay` recomputes every cell with no live call and writes
 * byte-identical tables and plots.
 */

const root = fileURLToPath(new URL("../../..", import.meta.url))
const work = mkdtempSync(join(tmpdir(), "maspo-sim-replay-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

describe("results/sim", () => {
  it("replays byte-identically from the committed cache", async () => {
    const out = join(work, "sim")
    // A replay reads the output directory's export, as a user checking the published results would.
    mkdirSync(out)
    copyFileSync(join(root, "results/sim/cache.jsonl.gz"), join(out, "cache.jsonl.gz"))
    const r = await runCli(["run", "results/sim-table.json", "--replay", "--out", out], { cwd: root })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/cache hits 100\.0%/)
    for (const dir of ["tables", "plots"]) {
      const committed = readdirSync(join(root, "results/sim", dir)).sort()
      expect(readdirSync(join(out, dir)).sort()).toEqual(committed)
      for (const f of committed)
        expect(readFileSync(join(out, dir, f), "utf8"), `${dir}/${f}`).toBe(
          readFileSync(join(root, "results/sim", dir, f), "utf8")
        )
    }
  }, 600_000)
})
