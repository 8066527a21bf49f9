import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { DATASETS, resolveDataDir } from "@maspo/benchmarks"
import { type CliResult, runCli, type Served, startServe } from "./cliProcess.ts"

/**
 * Filesystem failures of every command end as one line naming the path and what went wrong, with
 * status 1, and an output folder that cannot be written fails before any LLM call is made.
 */

const work = mkdtempSync(join(tmpdir(), "maspo-files-"))
const aFile = join(work, "a-file")
writeFileSync(aFile, "not a directory\n")
afterAll(() => rmSync(work, { recursive: true, force: true }))

const cli = (args: ReadonlyArray<string>) => runCli(args, { cwd: work })

/** Exactly one line on stderr, `error: ...`, containing every part; no dump of the platform error, no stack. */
const expectOneLine = (r: CliResult, ...parts: ReadonlyArray<string>) => {
  expect(r.code, r.stderr).toBe(1)
  const lines = r.stderr.split("\n").filter((l) => l !== "")
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]!.startsWith("error: ")).toBe(true)
  for (const p of parts) expect(lines[0]).toContain(p)
  expect(r.stderr).not.toMatch(/PlatformError|SystemError|\n\s+at /)
}

// Unwritable places that stay unwritable for root: /proc refuses new entries (and Node's recursive
// mkdir never returns there), sysfs refuses them too; and a path through a regular file.
const SMALL_EVAL = ["eval", "--task", "arith", "--n", "2"]
const OUTS: ReadonlyArray<readonly [string, string, ReadonlyArray<string>]> = [
  ["a file used as the directory", aFile, ["--out", aFile, "it is a file"]],
  ["a path under a file", join(aFile, "sub"), ["--out", `${aFile} is a file, not a directory`]],
  ...(existsSync("/proc/self")
    ? [["a folder under /proc", "/proc/maspo-x/y", ["--out", "/proc/maspo-x", "cannot create"]] as const]
    : []),
  ...(existsSync("/sys/kernel")
    ? [["a folder under /sys", "/sys/maspo-x", ["--out", "/sys/maspo-x", "cannot create"]] as const]
    : [])
]

describe("file errors are one line naming the path", () => {
  it("a missing --prompts, --config or experiment config; a missing table directory", async () => {
    const missing = join(work, "missing.json")
    expectOneLine(
      await cli([...SMALL_EVAL, "--prompts", missing]),
      "--prompts",
      missing,
      "cannot read",
      "no such file"
    )
    expectOneLine(await cli([...SMALL_EVAL, "--config", missing]), missing, "no such file")
    expectOneLine(await cli(["optimize", "--config", missing]), missing, "no such file")
    expectOneLine(await cli(["run", missing]), "experiment config", missing, "no such file")
    expectOneLine(await cli(["table", join(work, "nowhere")]), join(work, "nowhere", "experiment.json"))
  }, 180_000)

  it("an unreadable cell file during `maspo table` names it", async () => {
    const dir = join(work, "experiment")
    mkdirSync(dir, { recursive: true })
    // experiment.json that is a directory: reading it fails, not decoding it.
    mkdirSync(join(dir, "experiment.json"), { recursive: true })
    expectOneLine(await cli(["table", dir]), join(dir, "experiment.json"), "it is a directory")
  }, 120_000)

  it("eval with --out at a file, under a file, under /proc and /sys", async () => {
    for (const [name, out, parts] of OUTS) {
      const r = await cli([...SMALL_EVAL, "--out", out])
      expect(r.stderr, name).toContain(parts[1])
      expectOneLine(r, ...parts)
    }
  }, 180_000)

  it("optimize and run with an unwritable --out, and run with an unwritable `out` in its config", async () => {
    const [, procOut, procParts] = OUTS.at(-1)!
    expectOneLine(await cli(["optimize", "--rounds", "1", "--skip-test", "--out", procOut]), ...procParts)
    const [, fileOut, fileParts] = OUTS[0]!
    const config = join(work, "tiny.json")
    const tiny = (out: string) =>
      JSON.stringify({
        name: "tiny",
        out,
        tasks: ["arith"],
        topologies: ["sequential"],
        methods: [{ name: "seed", kind: "seed" }],
        seeds: [1],
        testN: 2
      })
    writeFileSync(config, tiny(join(work, "tiny-out")))
    expectOneLine(await cli(["run", config, "--out", fileOut]), ...fileParts)
    // The experiment's own `out` is named as such.
    writeFileSync(config, tiny(fileOut))
    expectOneLine(await cli(["run", config]), `out of ${config}`, ...fileParts.slice(1))
  }, 180_000)
})

describe("call cache and export paths", () => {
  it("a cache or an export under a file or /proc is one line, not a hang", async () => {
    const places = [join(aFile, "c"), ...(existsSync("/proc/self") ? ["/proc/maspo-x/c"] : [])]
    for (const place of places) {
      expectOneLine(
        await cli([
          ...SMALL_EVAL,
          "--cache-mode",
          "read-write",
          "--cache",
          `${place}.sqlite`,
          "--out",
          join(work, "c")
        ]),
        "--cache",
        dirname(place)
      )
      expectOneLine(await cli(["cache", "export", `${place}.jsonl.gz`, "--cache", aFile]), dirname(place))
      expectOneLine(
        await cli(["cache", "import", join(work, "none.jsonl.gz"), "--cache", `${place}.sqlite`]),
        "--cache",
        dirname(place)
      )
    }
  }, 180_000)
})

describe("a broken dataset line", () => {
  it("eval on a dataset copy with one broken line names the line, not only the checksum", async () => {
    const file = DATASETS.math500.files[0]!
    const dir = join(work, "datasets")
    mkdirSync(join(dir, dirname(file.path)), { recursive: true })
    const lines = readFileSync(join(resolveDataDir(), file.path), "utf8").split("\n")
    lines[16] = JSON.stringify({ ...(JSON.parse(lines[16]!) as object), answer: 7 })
    writeFileSync(join(dir, file.path), lines.join("\n"))
    expectOneLine(
      await cli(["eval", "--task", "math500", "--n", "2", "--data-dir", dir, "--out", join(work, "m")]),
      `${file.path}:17: field 'answer': expected string, got number`,
      "sha256 mismatch"
    )
  }, 120_000)
})

describe("an unwritable output fails before any LLM call", () => {
  let server: Served
  beforeAll(async () => {
    server = await startServe([], { cwd: work })
  })
  afterAll(() => server.stop())

  /** Chat requests answered (the server injects no faults here, so every one is answered). */
  const completions = async () =>
    ((await (await fetch(server.url.replace(/\/v1$/, "/maspo/stats"))).json()) as { completions: number })
      .completions

  it("eval, optimize and run against a live server: the server sees no request", async () => {
    const provider = [
      "--model",
      "maspo-sim-1",
      "--base-url",
      server.url,
      "--cache",
      join(work, "live.sqlite")
    ]
    const out = join(aFile, "out")
    const parts = ["--out", `${aFile} is a file, not a directory`]
    expectOneLine(await cli([...SMALL_EVAL, ...provider, "--out", out]), ...parts)
    expectOneLine(
      await cli(["optimize", "--rounds", "1", "--skip-test", ...provider, "--out", out]),
      ...parts
    )
    const config = join(work, "live.json")
    writeFileSync(
      config,
      JSON.stringify({
        name: "live",
        out: join(work, "live-out"),
        tasks: ["arith"],
        topologies: ["sequential"],
        methods: [{ name: "seed", kind: "seed" }],
        seeds: [1],
        testN: 2,
        providers: {
          agent: { kind: "openai", model: "maspo-sim-1", baseUrl: server.url },
          optimizer: { kind: "openai", model: "maspo-sim-1", baseUrl: server.url },
          evaluator: { kind: "openai", model: "maspo-sim-1", baseUrl: server.url }
        }
      })
    )
    expectOneLine(await cli(["run", config, "--out", out]), ...parts)
    expect(await completions()).toBe(0)
    // The same eval with a writable folder does reach the server, so the zero above means something.
    const ok = await cli([...SMALL_EVAL, ...provider, "--out", join(work, "eval-ok")])
    expect(ok.code, ok.stderr).toBe(0)
    expect(await completions()).toBeGreaterThan(0)
  }, 180_000)
})
