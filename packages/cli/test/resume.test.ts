import { afterAll, describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SeededRng } from "@maspo/core"
import { cliArgv, runCli } from "./cliProcess.ts"

/** `maspo optimize` killed with SIGKILL mid-run and resumed ends exactly as an uninterrupted run. */

const work = mkdtempSync(join(tmpdir(), "maspo-resume-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const ARGS = [
  "optimize",
  "--task",
  "arith",
  "--mas",
  "sequential",
  "--seed",
  "4",
  "--rounds",
  "2",
  "--skip-test"
]

const cursorOf = (dir: string): number | undefined => {
  const file = join(dir, "checkpoint.json")
  if (!existsSync(file)) return undefined
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { state: { cursor: number } }).state.cursor
  } catch {
    return undefined
  }
}

/** Starts a run and SIGKILLs it once its checkpoint has passed `step`; resolves with the cursor it died at. */
const runAndKill = (dir: string, step: number, extra: ReadonlyArray<string> = []) =>
  new Promise<number | undefined>((resolve) => {
    const child = spawn(process.execPath, cliArgv([...ARGS, ...extra, "--out", dir, "--resume"]), {
      stdio: "ignore"
    })
    const timer = setInterval(() => {
      const cursor = cursorOf(dir)
      if (cursor !== undefined && cursor >= step) {
        clearInterval(timer)
        child.kill("SIGKILL")
      }
    }, 5)
    child.on("exit", () => {
      clearInterval(timer)
      resolve(cursorOf(dir))
    })
  })

const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8")

describe("resume after a kill", () => {
  it("identical prompts, step log and budget after SIGKILLs at random steps", async () => {
    const whole = join(work, "whole")
    expect((await runCli([...ARGS, "--out", whole], { cwd: work })).code).toBe(0)
    const rng = new SeededRng(2026)
    const broken = join(work, "broken")
    const killedAt: Array<number | undefined> = []
    // Two kills at increasing random steps (a --resume with no checkpoint yet starts afresh).
    for (const step of [1 + rng.int(5), 7 + rng.int(5)]) {
      killedAt.push(await runAndKill(broken, step))
      if (existsSync(join(broken, "prompts.json"))) break
      const cursor = cursorOf(broken)
      expect(cursor).toBeDefined()
    }
    expect(killedAt[0]).toBeDefined()
    // The first kill landed before the end (the uninterrupted run's final cursor).
    expect(killedAt[0]!).toBeLessThan(cursorOf(whole)!)
    const resumed = await runCli([...ARGS, "--out", broken, "--resume"], { cwd: work })
    expect(resumed.stderr).toBe("")
    expect(resumed.code).toBe(0)
    for (const f of ["prompts.json", "steps.jsonl"]) expect(read(broken, f), f).toBe(read(whole, f))
    const budget = (dir: string) =>
      (JSON.parse(read(dir, "checkpoint.json")) as { state: { budget: unknown } }).state.budget
    expect(budget(broken)).toEqual(budget(whole))
  }, 180_000)

  it("under a call cap: a run killed and resumed stops where the uninterrupted one did, with the same figures", async () => {
    const cap = ["--max-calls", "1500"]
    const whole = join(work, "whole-capped")
    expect((await runCli([...ARGS, ...cap, "--out", whole], { cwd: work })).code).toBe(0)
    const stopped = JSON.parse(read(whole, "budget.json")) as { stoppedBy: string; used: { calls: number } }
    expect(stopped.stoppedBy).toBe("budget")
    expect(stopped.used.calls).toBeLessThanOrEqual(1500)
    const broken = join(work, "broken-capped")
    const killedAt = await runAndKill(broken, 1 + new SeededRng(7).int(4), cap)
    // Killed before the step the cap stopped at.
    expect(killedAt).toBeDefined()
    expect(killedAt!).toBeLessThan(cursorOf(whole)!)
    const resumed = await runCli([...ARGS, ...cap, "--out", broken, "--resume"], { cwd: work })
    expect(resumed.stderr).toBe("")
    expect(resumed.code).toBe(0)
    for (const f of ["prompts.json", "steps.jsonl", "budget.json"])
      expect(read(broken, f), f).toBe(read(whole, f))
  }, 180_000)
})
