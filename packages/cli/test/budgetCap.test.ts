import { afterAll, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli } from "./cliProcess.ts"

/** `maspo optimize --max-calls / --max-tokens`, as a user runs it: the optimization never spends past the cap. */

const work = mkdtempSync(join(tmpdir(), "maspo-cap-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

interface BudgetFile {
  readonly cap: { readonly maxCalls?: number; readonly maxTokens?: number }
  readonly stoppedBy: string
  readonly used: { readonly calls: number; readonly tokens: number }
  readonly overshoot: { readonly calls: number; readonly tokens: number }
}

const optimize = async (name: string, flags: ReadonlyArray<string>) => {
  const out = join(work, name)
  const r = await runCli(
    [
      "optimize",
      "--task",
      "arith",
      "--mas",
      "sequential",
      "--seed",
      "1",
      "--skip-test",
      "--out",
      out,
      ...flags
    ],
    { cwd: work }
  )
  expect(r.code, r.stderr).toBe(0)
  const budget = JSON.parse(readFileSync(join(out, "budget.json"), "utf8")) as BudgetFile
  return { stdout: r.stdout, budget }
}

/** The figure the summary line prints: "optimization used N calls, T tokens of the cap ...". */
const printed = (stdout: string) => {
  const m = /optimization used (\d+) calls, (\d+) tokens of the cap/.exec(stdout)
  expect(m, stdout).not.toBeNull()
  return { calls: Number(m![1]), tokens: Number(m![2]) }
}

describe("maspo optimize under a budget cap", () => {
  it("--max-calls 500: at most 500 calls, stopped at the cap, in budget.json and the summary", async () => {
    const { stdout, budget } = await optimize("calls", ["--max-calls", "500"])
    expect(budget.stoppedBy).toBe("budget")
    expect(budget.used.calls).toBeLessThanOrEqual(500)
    expect(budget.overshoot).toEqual({ calls: 0, tokens: 0 })
    expect(printed(stdout)).toEqual(budget.used)
    expect(stdout).toContain("stopped at the cap")
  }, 120_000)

  it("--max-tokens 20000: at most 20,000 tokens, in budget.json and the summary", async () => {
    const { stdout, budget } = await optimize("tokens", ["--max-tokens", "20000"])
    expect(budget.stoppedBy).toBe("budget")
    expect(budget.used.tokens).toBeLessThanOrEqual(20_000)
    expect(budget.overshoot).toEqual({ calls: 0, tokens: 0 })
    expect(printed(stdout)).toEqual(budget.used)
  }, 120_000)

  for (const method of ["spo", "ape", "tpe", "gepa"]) {
    it(`--method ${method} --max-calls 300 --max-tokens 30000: within both caps`, async () => {
      const { budget } = await optimize(method, [
        "--method",
        method,
        "--max-calls",
        "300",
        "--max-tokens",
        "30000"
      ])
      expect(budget.stoppedBy).toBe("budget")
      expect(budget.used.calls).toBeLessThanOrEqual(300)
      expect(budget.used.tokens).toBeLessThanOrEqual(30_000)
    }, 120_000)
  }
})
