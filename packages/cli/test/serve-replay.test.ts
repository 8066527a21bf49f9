import { afterAll, describe, expect, it } from "@effect/vitest"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli, type Served, startServe } from "./cliProcess.ts"

/**
 * The real provider path end to end: `maspo serve` answers with the simulator over HTTP, `maspo
 * optimize` drives the OpenAI-compatible provider against it through the call cache, and a replay
 * with the server gone reproduces every output file with zero network calls.
 */

const work = mkdtempSync(join(tmpdir(), "maspo-serve-"))
const SECRET = "sk-maspo-test-SECRET-4242"
const env = { MASPO_TEST_KEY: SECRET }
const servers: Array<Served> = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  rmSync(work, { recursive: true, force: true })
})

const SMALL = [
  "optimize",
  "--task",
  "arith",
  "--mas",
  "sequential",
  "--seed",
  "5",
  "--rounds",
  "1",
  "--steps",
  "2"
]
const SMALL_SEARCH = [...SMALL, "--batch", "4", "--pool", "8", "--test-n", "12", "--concurrency", "4"]
const provider = (url: string, cache: string, mode = "read-write") => [
  "--model",
  "maspo-sim-1",
  "--base-url",
  url,
  "--api-key-env",
  "MASPO_TEST_KEY",
  "--cache",
  cache,
  "--cache-mode",
  mode,
  // Short timeouts and backoff so stalled responses and faults cost little time.
  ...["agent", "optimizer", "evaluator"].flatMap((r) => [
    "--set",
    `providers.${r}.timeoutMs=1500`,
    "--set",
    `providers.${r}.maxRetries=8`
  ])
]

const FILES = ["prompts.json", "steps.jsonl", "test.json"]
const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8")
/** A replay serves every call from the cache, so only the live/hit split of the budget may differ. */
const withoutLiveSplit = (text: string) => text.replace(/"(liveCalls|cacheHits)":\s*\d+/g, '"$1":0')

const allFiles = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? allFiles(p) : [p]
  })

describe("maspo serve + OpenAI-compatible provider + call cache", () => {
  it("clean and faulty servers give identical results; a replay without the server reproduces them", async () => {
    const clean = await startServe(["--api-key-env", "MASPO_TEST_KEY"], { cwd: work, env })
    servers.push(clean)
    const faulty = await startServe(
      [
        "--api-key-env",
        "MASPO_TEST_KEY",
        ...["--rate-429", "0.08", "--rate-500", "0.06", "--rate-malformed", "0.04", "--rate-stall", "0.02"],
        ...["--retry-after", "0.01", "--stall-ms", "5000", "--fault-seed", "7"]
      ],
      { cwd: work, env }
    )
    servers.push(faulty)

    const a = await runCli(
      [...SMALL_SEARCH, ...provider(clean.url, join(work, "a.sqlite")), "--out", join(work, "a")],
      {
        cwd: work,
        env
      }
    )
    expect(a.stderr).toBe("")
    expect(a.code).toBe(0)
    const b = await runCli(
      [...SMALL_SEARCH, ...provider(faulty.url, join(work, "b.sqlite")), "--out", join(work, "b")],
      { cwd: work, env }
    )
    expect(b.code).toBe(0)
    for (const f of FILES) expect(read(join(work, "b"), f), f).toBe(read(join(work, "a"), f))

    const stats = (await (await fetch(faulty.url.replace(/\/v1$/, "/maspo/stats"))).json()) as {
      faults: Record<string, number>
    }
    for (const kind of ["rate429", "rate500", "malformed", "stall"])
      expect(stats.faults[kind], kind).toBeGreaterThan(0)
    await clean.stop()
    await faulty.stop()
    // Publish the live run's cache as an export and replay from a fresh cache built from it alone.
    const pub = join(work, "published.jsonl.gz")
    expect(
      (await runCli(["cache", "export", pub, "--cache", join(work, "a.sqlite")], { cwd: work })).code
    ).toBe(0)
    expect(
      (await runCli(["cache", "import", pub, "--cache", join(work, "d.sqlite")], { cwd: work })).code
    ).toBe(0)
    const c = await runCli(
      [...SMALL_SEARCH, ...provider(clean.url, join(work, "d.sqlite"), "replay"), "--out", join(work, "c")],
      { cwd: work, env }
    )
    expect(c.stderr).toBe("")
    expect(c.code).toBe(0)
    for (const f of FILES)
      expect(withoutLiveSplit(read(join(work, "c"), f)), f).toBe(withoutLiveSplit(read(join(work, "a"), f)))
    const test = JSON.parse(read(join(work, "c"), "test.json")) as {
      budget: Record<string, { liveCalls: number; cacheHits: number }>
    }
    expect(Object.values(test.budget).reduce((n, t) => n + t.liveCalls, 0)).toBe(0)
    expect(c.stdout).toMatch(/total\s+calls\s+\d+\s+live\s+0\s/)

    // A replay that needs an answer the cache lacks fails, naming the key, without a network call.
    const miss = await runCli(
      [
        "eval",
        "--task",
        "arith",
        "--n",
        "3",
        "--seed",
        "99",
        ...provider(clean.url, join(work, "a.sqlite"), "replay")
      ],
      { cwd: work, env }
    )
    expect(miss.code).toBe(1)
    expect(miss.stderr).toMatch(/replay mode: no cached answer for key [0-9a-f]{64}/)

    // The API key was used on every request above, and is written nowhere.
    const written = allFiles(work)
    expect(written.some((f) => f.endsWith(".sqlite"))).toBe(true)
    for (const f of written) expect(readFileSync(f).includes(SECRET), f).toBe(false)
    for (const out of [a, b, c, miss]) expect(out.stdout + out.stderr).not.toContain(SECRET)
    expect(existsSync(join(work, "a", "checkpoint.json"))).toBe(true)
  }, 240_000)
})
