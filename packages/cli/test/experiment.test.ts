import { afterAll, describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cliArgv, filesUnder, runCli } from "./cliProcess.ts"

/** `maspo run`: a killed experiment, started again, ends with the same tables as an uninterrupted one. */

const work = mkdtempSync(join(tmpdir(), "maspo-experiment-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const experiment = (out: string) => ({
  name: "tiny",
  out,
  tasks: ["arith"],
  topologies: ["sequential"],
  methods: [
    { name: "seed", kind: "seed" },
    { name: "maspo", kind: "maspo", optimizer: { rounds: 1, stepsPerVisit: 2, batchSize: 6, poolSize: 12 } },
    {
      name: "local-only",
      kind: "maspo",
      ablation: "local-only",
      optimizer: { rounds: 1, stepsPerVisit: 2, batchSize: 6, poolSize: 12 }
    }
  ],
  seeds: [1, 2],
  testN: 30,
  concurrency: 2,
  cache: { mode: "off" }
})

const outputs = (out: string) =>
  Object.fromEntries(
    ["tables", "plots"].flatMap((d) =>
      filesUnder(join(out, d)).map((f) => [join(d, f), readFileSync(join(out, d, f), "utf8")])
    )
  )

const countManifests = (out: string) =>
  filesUnder(join(out, "cells")).filter((f) => f.endsWith("manifest.json")).length

describe("maspo run", () => {
  it("kill and restart gives the same tables as an uninterrupted run", async () => {
    const whole = join(work, "whole")
    writeFileSync(join(work, "whole.json"), JSON.stringify(experiment(whole)))
    const a = await runCli(["run", join(work, "whole.json")], { cwd: work })
    expect(a.stderr).toBe("")
    expect(a.code).toBe(0)
    expect(a.stdout).toMatch(/\[6\/6\]/)
    const expected = outputs(whole)
    expect(Object.keys(expected).length).toBeGreaterThan(3)

    const broken = join(work, "broken")
    writeFileSync(join(work, "broken.json"), JSON.stringify(experiment(broken)))
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, cliArgv(["run", join(work, "broken.json")]), {
        cwd: work,
        stdio: "ignore"
      })
      const timer = setInterval(() => {
        if (countManifests(broken) >= 2) {
          clearInterval(timer)
          child.kill("SIGKILL")
        }
      }, 10)
      child.on("exit", () => {
        clearInterval(timer)
        resolve()
      })
    })
    const done = countManifests(broken)
    expect(done).toBeGreaterThanOrEqual(2)
    expect(done).toBeLessThan(6)
    const b = await runCli(["run", join(work, "broken.json")], { cwd: work })
    expect(b.code).toBe(0)
    expect(b.stdout).toContain(`${done} already complete`)
    const got = outputs(broken)
    expect(Object.keys(got).sort()).toEqual(Object.keys(expected).sort())
    // Tables name the experiment's output directory nowhere, so the two runs' files are byte-identical.
    for (const [f, text] of Object.entries(expected)) expect(got[f], f).toBe(text)
  }, 240_000)

  it("--jobs 2 runs cells in worker processes and writes the same files", async () => {
    const one = join(work, "jobs1")
    const two = join(work, "jobs2")
    writeFileSync(join(work, "jobs1.json"), JSON.stringify(experiment(one)))
    writeFileSync(join(work, "jobs2.json"), JSON.stringify(experiment(two)))
    const a = await runCli(["run", join(work, "jobs1.json")], { cwd: work })
    const b = await runCli(["run", join(work, "jobs2.json"), "--jobs", "2"], { cwd: work })
    expect(a.code).toBe(0)
    expect(b.stderr).toBe("")
    expect(b.code).toBe(0)
    expect(b.stdout).toMatch(/\[6\/6\]/)
    // Every file but the manifests (which hold wall-clock times) is byte-identical.
    const files = (out: string) =>
      Object.fromEntries(
        filesUnder(out)
          .filter((f) => !f.endsWith("manifest.json") && !f.endsWith("experiment.json"))
          .map((f) => [f, readFileSync(join(out, f), "utf8")])
      )
    const expected = files(one)
    expect(Object.keys(expected).length).toBeGreaterThan(20)
    expect(files(two)).toEqual(expected)
    expect(countManifests(two)).toBe(6)

    // A cell that fails in a worker fails the run, naming the cell and the cause.
    const broken = {
      ...experiment(join(work, "jobs-broken")),
      cache: { mode: "replay", path: join(work, "none.sqlite") }
    }
    writeFileSync(join(work, "jobs-broken.json"), JSON.stringify(broken))
    const c = await runCli(["run", join(work, "jobs-broken.json"), "--jobs", "2"], { cwd: work })
    expect(c.code).toBe(1)
    expect(c.stderr).toMatch(/CellWorkerError: arith\/sequential\/\S+\/seed\d: call cache .*none\.sqlite/)
  }, 240_000)

  it("a transfer row evaluates another method's prompts with its own providers", async () => {
    const out = join(work, "transfer")
    const config = {
      ...experiment(out),
      methods: [
        { name: "seed", kind: "seed" },
        {
          name: "maspo",
          kind: "maspo",
          optimizer: { rounds: 1, stepsPerVisit: 2, batchSize: 6, poolSize: 12 }
        },
        // The same (simulated) model: the transferred prompts must score exactly as where they came from.
        { name: "transfer", kind: "transfer", from: "maspo", providers: {} }
      ],
      seeds: [3]
    }
    writeFileSync(join(work, "transfer.json"), JSON.stringify(config))
    const r = await runCli(["run", join(work, "transfer.json")], { cwd: work })
    expect(r.code).toBe(0)
    const cell = (m: string) => join(out, "cells/arith/sequential", m, "seed3")
    expect(readFileSync(join(cell("transfer"), "prompts.json"), "utf8")).toBe(
      readFileSync(join(cell("maspo"), "prompts.json"), "utf8")
    )
    const scores = (m: string) =>
      JSON.parse(readFileSync(join(cell(m), "test.json"), "utf8")).optimized.scores
    expect(scores("transfer")).toEqual(scores("maspo"))
    expect(readFileSync(join(out, "tables/accuracy.md"), "utf8")).toMatch(/\| transfer \|/)
  }, 120_000)
})
