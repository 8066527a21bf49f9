import { afterAll, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as fc from "fast-check"
import { ABLATIONS, canonicalJson, defaultRunConfig, maspoDefaults } from "@maspo/core"
import { defaultOptimizeOut, type OptimizeRunName } from "../src/commands/optimize.ts"
import { METHOD_NAMES } from "../src/optimization.ts"
import { formatDifferences, settingsDiff } from "../src/settingsDiff.ts"
import { runCli } from "./cliProcess.ts"

/** Two different `maspo optimize` runs never share a default folder; a mismatched resume names the fields. */

const work = mkdtempSync(join(tmpdir(), "maspo-optout-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const settings = fc.record({
  seed: fc.integer({ min: 0, max: 3 }),
  task: fc.constantFrom("arith", "math500"),
  topology: fc.constantFrom("sequential", "hierarchical"),
  method: fc.constantFrom(...METHOD_NAMES),
  preset: fc.constantFrom("maspo" as const, "paper" as const),
  ablation: fc.option(fc.constantFrom(...Object.keys(ABLATIONS)), { nil: undefined }),
  selfOptimized: fc.boolean(),
  supervised: fc.boolean(),
  rounds: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
  maxCalls: fc.option(fc.constantFrom(100, 3000), { nil: undefined }),
  test: fc.constantFrom("skip" as const, 50, 500, undefined),
  model: fc.option(fc.constantFrom("m1", "m2"), { nil: undefined })
})
type Settings = typeof settings extends fc.Arbitrary<infer A> ? A : never

/** The run as `maspo optimize` builds it from these flags. */
const nameOf = (s: Settings): OptimizeRunName => {
  const named = s.preset === "paper" ? { ...maspoDefaults, debiasPosition: false } : maspoDefaults
  const base = s.ablation !== undefined ? ABLATIONS[s.ablation]!(named) : named
  return {
    run: {
      ...defaultRunConfig,
      seed: s.seed,
      task: s.task,
      topology: s.topology,
      providers: s.model !== undefined ? { agent: { kind: "openai", model: s.model } } : {}
    },
    optimizer: s.rounds !== undefined ? { ...base, rounds: s.rounds } : base,
    method: s.method,
    preset: s.preset,
    ablation: s.ablation,
    selfOptimized: s.selfOptimized,
    supervised: s.supervised,
    cap: s.maxCalls !== undefined ? { maxCalls: s.maxCalls } : {},
    test: s.test
  }
}

/** Settings that give the same run: an explicit value equal to its default is no difference. */
const effective = (s: Settings) => {
  const n = nameOf(s)
  return JSON.stringify({ ...n, run: { ...n.run, concurrency: 0 } })
}

describe("default optimize output folder", () => {
  it("differs whenever the runs differ, and names method, preset and ablation (property)", () => {
    fc.assert(
      fc.property(settings, settings, (a, b) => {
        const [na, nb] = [defaultOptimizeOut(nameOf(a)), defaultOptimizeOut(nameOf(b))]
        expect(na === nb).toBe(effective(a) === effective(b))
        expect(na).toContain(`-${a.method}-${a.preset}`)
        if (a.ablation !== undefined) expect(na).toContain(`-${a.ablation}`)
        expect(na.endsWith(`-seed${a.seed}`)).toBe(true)
      }),
      { numRuns: 500 }
    )
  })

  it("is readable for the default run", () => {
    expect(
      defaultOptimizeOut({
        run: defaultRunConfig,
        optimizer: maspoDefaults,
        method: "maspo",
        preset: "maspo",
        ablation: undefined,
        selfOptimized: false,
        supervised: false,
        cap: {},
        test: undefined
      })
    ).toBe(".maspo/runs/optimize-arith-sequential-maspo-maspo-seed0")
  })
})

describe("settingsDiff", () => {
  const json = fc.jsonValue({ maxDepth: 3 })
  it("is empty exactly when both sides are equal, and every field it names differs (property)", () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const diffs = settingsDiff(a, b)
        expect(diffs.length === 0).toBe(canonicalJson(a) === canonicalJson(b))
        expect(settingsDiff(a, a)).toEqual([])
        for (const d of diffs) expect(canonicalJson(d.saved)).not.toBe(canonicalJson(d.requested))
      })
    )
  })

  it("names nested fields with dotted paths", () => {
    const diffs = settingsDiff(
      { run: { seed: 1, task: "arith" }, config: { rounds: 3 } },
      {
        run: { seed: 2, task: "arith" },
        config: { rounds: 1 },
        cap: { maxCalls: 10 }
      }
    )
    expect(formatDifferences(diffs)).toBe(
      'cap: checkpoint (absent), requested {"maxCalls":10}; config.rounds: checkpoint 3, requested 1; run.seed: checkpoint 1, requested 2'
    )
  })
})

const SMALL = ["optimize", "--steps", "1", "--pool", "10", "--batch", "5", "--skip-test"]

describe("maspo optimize (CLI)", () => {
  it("two runs differing only by ablation write to two folders; a resume with other settings names the fields", async () => {
    const plain = await runCli([...SMALL, "--rounds", "1"], { cwd: work })
    expect(plain.code, plain.stderr).toBe(0)
    const ablated = await runCli([...SMALL, "--rounds", "1", "--ablation", "local-only"], { cwd: work })
    expect(ablated.code, ablated.stderr).toBe(0)
    const dirs = readdirSync(join(work, ".maspo", "runs")).sort()
    expect(dirs).toHaveLength(2)
    expect(dirs.some((d) => d.includes("-maspo-maspo-local-only-"))).toBe(true)
    const first = join(
      ".maspo",
      "runs",
      dirs.find((d) => !d.includes("local-only"))!
    )
    const resumed = await runCli([...SMALL, "--rounds", "2", "--out", first, "--resume"], { cwd: work })
    expect(resumed.code).toBe(1)
    const lines = resumed.stderr.trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain(`${first}/checkpoint.json`)
    expect(lines[0]).toContain("config.rounds: checkpoint 1, requested 2")
    expect(lines[0]).not.toContain("run.seed")
  }, 240_000)
})
