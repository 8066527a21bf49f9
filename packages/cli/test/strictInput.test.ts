import { afterAll, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { runCli } from "./cliProcess.ts"

/** A typo or an out-of-range number ends the command with an error naming where it is, never a quiet wrong run. */

const work = mkdtempSync(join(tmpdir(), "maspo-strict-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))
const root = fileURLToPath(new URL("../../../", import.meta.url))

const write = (name: string, text: string) => {
  const file = join(work, name)
  writeFileSync(file, text)
  return file
}

/** The command's one error line(s), after checking it failed without running anything. */
const rejected = async (args: ReadonlyArray<string>) => {
  const r = await runCli(args, { cwd: work })
  expect(r.code).not.toBe(0)
  expect(r.stdout).not.toMatch(/accuracy|tables and plots/)
  return r.stderr
}

describe("maspo rejects what it does not understand", () => {
  it("a misspelt field in a run config names the file, line, field and the closest field", async () => {
    const file = write(
      "run.json",
      '{\n  "seed": 1,\n  "providers": {\n    "agent": { "kind": "sim", "temprature": 1 }\n  }\n}\n'
    )
    const err = await rejected(["eval", "--config", file, "--n", "2"])
    expect(err).toContain(
      `error: ${file}:4: providers.agent.temprature: unknown field; did you mean \`temperature\`?`
    )
  })

  it("a bad task in a run config is reported as the config's field, not as --task", async () => {
    const file = write("task.json", '{\n  "seed": 0,\n  "task": "arth"\n}\n')
    const err = await rejected(["eval", "--config", file])
    expect(err).toContain(`error: ${file}:3: task: unknown task 'arth'; did you mean \`arith\`?`)
  })

  it("a misspelt field of a method in an experiment config names the file, line, JSON path and suggestion", async () => {
    const config = JSON.parse(readFileSync(join(root, "results/sim-table.json"), "utf8"))
    config.out = join(work, "exp")
    config.methods[2].ablaton = "local-only"
    const file = write("exp.json", JSON.stringify(config, null, 2))
    const line =
      JSON.stringify(config, null, 2)
        .split("\n")
        .findIndex((l) => l.includes('"ablaton"')) + 1
    const err = await rejected(["run", file])
    expect(err).toContain(
      `error: ${file}:${line}: methods[2].ablaton: unknown field; did you mean \`ablation\`?`
    )
  })

  it("duplicate seeds in an experiment are rejected", async () => {
    const config = JSON.parse(readFileSync(join(root, "results/sim-table.json"), "utf8"))
    config.out = join(work, "dup")
    config.seeds = [0, 1, 1]
    const file = write("dup.json", JSON.stringify(config, null, 2))
    const err = await rejected(["run", file])
    expect(err).toMatch(new RegExp(`error: ${file}:\\d+: seeds\\[2\\]: seed 1 is listed twice`))
  })

  it("--set optimizer.<field> reaches the optimizer: checked, and in effect", async () => {
    expect(
      await rejected(["optimize", "--task", "arith", "--skip-test", "--set", "optimizer.dedupBeam=true"])
    ).toMatch(
      /--set optimizer\.dedupBeam=true: optimizer\.dedupBeam: unknown field; did you mean `dedupeBeam`\?/
    )
    expect(
      await rejected(["optimize", "--task", "arith", "--skip-test", "--set", "optimizer.beamWidth=0"])
    ).toMatch(/optimizer\.beamWidth: expected an integer >= 1, got 0/)
    expect(
      await rejected(["eval", "--task", "arith", "--n", "2", "--set", "optimizer.judgeMemo=true"])
    ).toMatch(/optimizer: eval runs no optimizer/)
    // The paper preset's first step asks 60 comparisons in one order; both orders double them.
    const firstStepJudgeCalls = async (extra: ReadonlyArray<string>) => {
      const out = join(work, `set-${extra.length}`)
      const args = ["optimize", "--task", "arith", "--preset", "paper", "--rounds", "1", "--steps", "1"]
      const r = await runCli([...args, "--skip-test", "--out", out, ...extra], { cwd: work })
      expect(r.code).toBe(0)
      const state = (
        JSON.parse(readFileSync(join(out, "checkpoint.json"), "utf8")) as {
          state: { log: Array<{ budget: { evaluator: { calls: number } } }> }
        }
      ).state
      return state.log[0]!.budget.evaluator.calls
    }
    expect(await firstStepJudgeCalls([])).toBe(60)
    expect(await firstStepJudgeCalls(["--set", "optimizer.judgePosition=both-orders"])).toBe(120)
  }, 120_000)

  it("an unknown --set path is rejected with the closest field", async () => {
    const err = await rejected(["eval", "--set", "sead=3", "--n", "2"])
    expect(err).toContain("error: --set sead=3: sead: unknown field; did you mean `seed`?")
  })

  it.each([
    [["optimize", "--beam", "0"], "--beam: expected an integer >= 1, got 0"],
    [["optimize", "--batch", "-1"], "--batch: expected an integer >= 1, got -1"],
    [
      ["optimize", "--weights", "0,0,0"],
      "--weights: expected three non-negative numbers a,b,c, not all zero"
    ],
    [["optimize", "--test-n", "0"], "--test-n: expected an integer >= 1, got 0"],
    [["eval", "--n", "-1"], "--n: expected an integer >= 1, got -1"],
    [["eval", "--seed", "-1"], "--seed: expected an integer >= 0, got -1"],
    [["eval", "--split-seed", "-1"], "--split-seed: expected an integer >= 0, got -1"],
    [["run", "results/sim-table.json", "--jobs", "0"], "--jobs: expected an integer >= 1, got 0"],
    [["serve", "--rate-429", "1.5"], "--rate-429: expected a number in [0, 1], got 1.5"],
    [["serve", "--port", "70000"], "--port: expected an integer in [0, 65535], got 70000"]
  ])("%j is rejected", async (args, message) => {
    const err = await rejected(args)
    expect(err).toContain(`error: ${message}`)
  })
})
