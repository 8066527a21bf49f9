import { describe, expect, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { ABLATIONS, CaseSampling, defaultRunConfig, EvaluatorKind } from "@maspo/core"
import { CACHE_MODES } from "@maspo/core/cache"
import { Effect } from "effect"
import { METHOD_NAMES } from "../src/optimization.ts"
import { openTask, systemNames, TASK_NAMES } from "../src/registry.ts"
import { runCli } from "./cliProcess.ts"

/** Every flag of every command says its default (or that it has none), and its value lists are the code's. */

const COMMANDS = [
  ["eval"],
  ["optimize"],
  ["run"],
  ["table"],
  ["serve"],
  ["cache", "export"],
  ["cache", "import"],
  ["cache", "stats"]
] as const

interface FlagHelp {
  readonly name: string
  readonly type: string | undefined
  readonly description: string
}

/** The FLAGS section of `maspo <command> --help`: `  --name [type]   description`, one flag a line. */
const parseFlags = (help: string): Array<FlagHelp> => {
  const section = help.split(/^FLAGS$/m)[1]?.split(/^\S/m)[0] ?? ""
  return section
    .split("\n")
    .filter((l) => l.startsWith("  --"))
    .map((line) => {
      const m = /^ {2}(--[\w-]+)(?: (\S+))?\s{2,}(.*)$/.exec(line)
      expect(m, line).not.toBeNull()
      return { name: m![1]!, type: m![2], description: m![3]! }
    })
}

const choicesOf = (f: FlagHelp): Array<string> =>
  (/\(choices: ([^)]*)\)$/.exec(f.description)?.[1] ?? "").split(", ").filter((c) => c !== "")

const helps = new Map<string, Array<FlagHelp>>()
const flagsOf = async (command: ReadonlyArray<string>) => {
  const key = command.join(" ")
  if (!helps.has(key)) {
    const r = await runCli([...command, "--help"], { cwd: process.cwd() })
    expect(r.code, r.stderr).toBe(0)
    helps.set(key, parseFlags(r.stdout))
  }
  return helps.get(key)!
}
const flag = async (command: ReadonlyArray<string>, name: string) => {
  const f = (await flagsOf(command)).find((x) => x.name === name)
  expect(f, `${command.join(" ")} ${name}`).toBeDefined()
  return f!
}

describe("--help", () => {
  it("every flag of every command states its default or that it has none, and names only real flags", async () => {
    for (const command of COMMANDS) {
      const flags = await flagsOf(command)
      expect(flags.length, command.join(" ")).toBeGreaterThan(0)
      const names = new Set(flags.map((f) => f.name))
      const booleans = new Set(flags.filter((f) => f.type === undefined).map((f) => f.name))
      for (const f of flags) {
        expect(f.description, `${command.join(" ")} ${f.name}`).toMatch(/\((?:default|no default)\b[^)]*\)/)
        // A flag a description points to exists (`--no-x` for a boolean `--x`).
        for (const [ref] of f.description.matchAll(/--[a-z][\w-]*/g)) {
          const positive = ref.replace(/^--no-/, "--")
          expect(
            names.has(ref) || (ref !== positive && booleans.has(positive)),
            `${command.join(" ")} ${f.name} mentions ${ref}`
          ).toBe(true)
        }
      }
    }
  }, 180_000)

  it("defaults shown are the code's", async () => {
    expect((await flag(["eval"], "--seed")).description).toContain(`(default ${defaultRunConfig.seed})`)
    expect((await flag(["eval"], "--n")).description).toContain("(default: all)")
    expect((await flag(["eval"], "--task")).description).toContain(`(default ${defaultRunConfig.task})`)
    expect((await flag(["eval"], "--mas")).description).toContain(`(default ${defaultRunConfig.topology})`)
    expect((await flag(["optimize"], "--test-n")).description).toContain("(default: all)")
    expect((await flag(["optimize"], "--skip-test")).description).toContain("(default off)")
    expect((await flag(["serve"], "--port")).description).toContain("(default 8911)")
    expect((await flag(["serve"], "--latency-ms")).description).toContain("(default 0)")
    expect((await flag(["serve"], "--stall-ms")).description).toContain("(default 60000)")
    const retryAfter = (await flag(["serve"], "--retry-after")).description
    expect(retryAfter).toContain("(default 1)")
    // retry-after-ms is a header the server sends, not a flag.
    expect(retryAfter).toContain("retry-after-ms header")
  }, 120_000)

  it("value lists are the registries': tasks, topologies, ablations, methods, cache modes, presets", async () => {
    for (const command of [["eval"], ["optimize"]] as const) {
      const task = await flag(command, "--task")
      for (const name of TASK_NAMES) expect(task.description).toContain(name)
      expect(task.description).toContain(`Task: ${TASK_NAMES.join(", ")} (default`)
      const mas = (await flag(command, "--mas")).description
      for (const name of TASK_NAMES) {
        const group = new RegExp(`(?:^|[:;] )((?:[\\w-]+, )*${name}(?:, [\\w-]+)*): ([^;()]*)`).exec(mas)
        expect(group, `${name} in ${mas}`).not.toBeNull()
        expect(group![2]!.trim().split(", ")).toEqual(systemNames(name))
      }
      expect(choicesOf(await flag(command, "--cache-mode"))).toEqual(CACHE_MODES)
      expect(choicesOf(await flag(command, "--split"))).toEqual(["heldout", "paper"])
    }
    expect(choicesOf(await flag(["optimize"], "--ablation"))).toEqual(Object.keys(ABLATIONS))
    const method = await flag(["optimize"], "--method")
    expect(choicesOf(method)).toEqual(METHOD_NAMES)
    for (const m of METHOD_NAMES) expect(method.description).toContain(`${m} (`)
    expect(choicesOf(await flag(["optimize"], "--preset"))).toEqual(["maspo", "paper"])
    expect(choicesOf(await flag(["optimize"], "--evaluator"))).toEqual(EvaluatorKind.literals)
    expect(choicesOf(await flag(["optimize"], "--sampling"))).toEqual(CaseSampling.literals)
  }, 120_000)

  it.effect("the topology names listed are those a task opens with (arith and a dataset)", () =>
    Effect.gen(function* () {
      for (const task of ["arith", "math500"]) {
        const entry = yield* openTask({ ...defaultRunConfig, task })
        expect([...Object.keys(entry.topologies), "self-refine"]).toEqual(systemNames(task))
      }
    }).pipe(Effect.provide(NodeServices.layer))
  )
})
