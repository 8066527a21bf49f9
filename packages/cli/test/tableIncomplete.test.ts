import { afterAll, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli } from "./cliProcess.ts"

/**
 * `maspo table` on an experiment with unfinished cells names every cell it could not use (missing,
 * incomplete, stale) and every row it therefore left out, on stderr and in the tables' JSON, and
 * still builds the tables from the complete rows.
 */

const work = mkdtempSync(join(tmpdir(), "maspo-table-incomplete-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const out = join(work, "out")
const cell = (method: string, seed: number) => join(out, "cells/arith/sequential", method, `seed${seed}`)
const experiment = {
  name: "tiny",
  out,
  tasks: ["arith"],
  topologies: ["sequential"],
  methods: [
    { name: "seed", kind: "seed" },
    { name: "cot", kind: "single", system: "cot" },
    { name: "vanilla", kind: "single", system: "vanilla" },
    { name: "refine", kind: "single", system: "self-refine" }
  ],
  seeds: [1, 2],
  testN: 10,
  cache: { mode: "off" }
}

interface TablesJson {
  readonly tables: ReadonlyArray<{ readonly rows: ReadonlyArray<{ readonly method: string }> }>
  readonly leftOut?: {
    readonly cells: ReadonlyArray<{ method: string; seed: number; status: string }>
    readonly rows: ReadonlyArray<{ method: string; seeds: number; complete: number }>
  }
}
const tablesJson = (): TablesJson =>
  JSON.parse(readFileSync(join(out, "tables/accuracy.json"), "utf8")) as TablesJson

describe("maspo table with unfinished cells", () => {
  it("names the cells and rows it leaves out, and builds the rest", async () => {
    writeFileSync(join(work, "tiny.json"), JSON.stringify(experiment))
    const run = await runCli(["run", join(work, "tiny.json")], { cwd: work })
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(tablesJson().leftOut).toBeUndefined()
    expect(tablesJson().tables[0]!.rows.map((r) => r.method)).toEqual(["seed", "cot", "vanilla", "refine"])

    // cot seed 2 never ran; vanilla seed 1 was interrupted (no manifest); refine seed 2 ran with
    // other settings than the experiment's.
    rmSync(cell("cot", 2), { recursive: true })
    rmSync(join(cell("vanilla", 1), "manifest.json"))
    const manifest = join(cell("refine", 2), "manifest.json")
    writeFileSync(
      manifest,
      readFileSync(manifest, "utf8").replace(/"configHash": "[0-9a-f]+"/, '"configHash": "0000"')
    )

    const r = await runCli(["table", out], { cwd: work })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(join(out, "tables/accuracy.md"))
    expect(r.stderr).toContain(`the tables of ${out} leave out 3 row(s)`)
    expect(r.stderr).toContain("arith/sequential/cot: partial (1 of 2 seeds complete)")
    expect(r.stderr).toContain("arith/sequential/vanilla: partial (1 of 2 seeds complete)")
    expect(r.stderr).toContain("arith/sequential/refine: partial (1 of 2 seeds complete)")
    expect(r.stderr).toContain("arith/sequential/cot/seed2: missing")
    expect(r.stderr).toContain("arith/sequential/vanilla/seed1: incomplete (no manifest.json")
    expect(r.stderr).toContain("arith/sequential/refine/seed2: stale")

    const json = tablesJson()
    expect(json.tables[0]!.rows.map((row) => row.method)).toEqual(["seed"])
    expect(json.leftOut!.cells).toEqual([
      { task: "arith", topology: "sequential", method: "cot", seed: 2, status: "missing" },
      { task: "arith", topology: "sequential", method: "vanilla", seed: 1, status: "incomplete" },
      { task: "arith", topology: "sequential", method: "refine", seed: 2, status: "stale" }
    ])
    expect(json.leftOut!.rows.map((row) => [row.method, row.complete, row.seeds])).toEqual([
      ["cot", 1, 2],
      ["vanilla", 1, 2],
      ["refine", 1, 2]
    ])
    const md = readFileSync(join(out, "tables/accuracy.md"), "utf8")
    expect(md).toMatch(/\| seed \|/)
    expect(md).not.toMatch(/\| cot \|/)

    // A whole row missing is named too.
    rmSync(join(out, "cells/arith/sequential/cot"), { recursive: true })
    const whole = await runCli(["table", out], { cwd: work })
    expect(whole.code).toBe(0)
    expect(whole.stderr).toContain("arith/sequential/cot: missing (no complete cell of 2)")
    expect(whole.stderr).toContain("arith/sequential/cot/seed1: missing")

    // Nothing complete: an error, not an empty table.
    rmSync(join(out, "cells"), { recursive: true })
    const none = await runCli(["table", out], { cwd: work })
    expect(none.code).not.toBe(0)
    expect(none.stderr).toContain("no row of the experiment has all its cells complete")
  }, 300_000)
})
