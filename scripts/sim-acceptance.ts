/**
 * MASPO against its local-only ablation on the simulator's conflict topology (sequential
 * solver -> reviewer), over several seeds, through the real CLI. For each seed and variant it runs
 * `maspo optimize`, then measures the optimized prompt set's distance to the documented optimum,
 * its exact expected accuracy on the 500 test items, and its simulated test accuracy (test.json).
 *
 * Every run caches its calls in a file of its own (so its live/cached counts do not depend on which
 * runs happened to go first), and the runs' caches are merged into one export,
 * `<out>/cache.jsonl.gz`, with `maspo cache export` / `import`.
 *
 * `--replay` recomputes every run of a committed directory (`--from`, default
 * results/sim/acceptance) from its export into `--out`, with zero live calls, and checks that every
 * file is the committed one (budget records aside, which a replay writes as 0 live calls and all
 * hits: see replayedBudgets.ts) and that the summary is identical byte for byte.
 *
 * Usage: npx tsx scripts/sim-acceptance.ts [--seeds 10] [--out results/sim/acceptance] [--jobs 4]
 *        npx tsx scripts/sim-acceptance.ts --replay [--from results/sim/acceptance] --out DIR [--jobs 4]
 */
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { InputError } from "@maspo/core"
import {
  liveCallsReported,
  optimizeArgs,
  readJsonAs,
  replayMismatches,
  runName,
  runsOf,
  type Summary,
  SummarySeeds,
  summarize,
  summaryText
} from "./acceptance.ts"

const { values: flags } = parseArgs({
  options: {
    seeds: { type: "string" },
    out: { type: "string" },
    jobs: { type: "string", default: "4" },
    replay: { type: "boolean", default: false },
    from: { type: "string" }
  },
  strict: true,
  allowPositionals: false
})
const positiveInt = (name: string, text: string) => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1)
    throw new InputError({ source: `--${name}`, message: `not a positive integer: ${text}` })
  return n
}
const jobs = positiveInt("jobs", flags.jobs)
if (!flags.replay && flags.from !== undefined)
  throw new InputError({ source: "--from", message: "only a --replay reads another directory" })
const bin = fileURLToPath(new URL("../bin/maspo.js", import.meta.url))

/** Runs `maspo ARGS`; resolves with its stdout, rejects with its stderr when it fails. */
const maspo = (args: ReadonlyArray<string>) =>
  new Promise<string>((done, fail) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("error", fail)
    child.on("close", (code) =>
      code === 0 ? done(stdout) : fail(new Error(`maspo ${args.join(" ")}: exit ${code}\n${stderr}`))
    )
  })

/** Runs `task` on every element, `jobs` at a time. */
const inParallel = async <A>(items: ReadonlyArray<A>, task: (a: A) => Promise<void>) => {
  const queue = [...items]
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) await task(next)
    })
  )
}

const printSummary = (summary: Summary) => {
  type Comparison = Summary["distance"]
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`
  const line = (name: string, c: Comparison, f: (x: number) => string) =>
    `| ${name} | ${f(c.maspo)} | ${f(c.localOnly)} | ${f(c.difference)} [${f(c.ci95.low)}, ${f(c.ci95.high)}] | ${c.permutationP.toFixed(4)} |`
  console.log(
    [
      `${summary.seeds.length} seeds, sequential (solver -> reviewer); seed prompts ${pct(summary.seedPrompts)}, optimum ${pct(summary.optimum)}`,
      "| measure | MASPO | local-only | difference, 95% CI (paired bootstrap over seeds) | permutation p |",
      "|---|---|---|---|---|",
      line("distance to optimum (directive edits)", summary.distance, (x) => x.toFixed(2)),
      line("exact expected test accuracy", summary.exactAccuracy, pct),
      line("simulated test accuracy (500 items)", summary.simulatedAccuracy, pct)
    ].join("\n")
  )
}

const live = async () => {
  const seeds = Array.from({ length: positiveInt("seeds", flags.seeds ?? "10") }, (_, i) => i + 1)
  const out = flags.out ?? "results/sim/acceptance"
  const work = mkdtempSync(join(tmpdir(), "maspo-acceptance-"))
  try {
    mkdirSync(out, { recursive: true })
    await inParallel(runsOf(seeds), async ([variant, seed]) => {
      const name = runName(variant, seed)
      const dir = join(out, name)
      rmSync(dir, { recursive: true, force: true })
      await maspo(optimizeArgs(variant, seed, dir, join(work, `${name}.sqlite`), "read-write"))
      await maspo([
        "cache",
        "export",
        join(work, `${name}.jsonl.gz`),
        "--cache",
        join(work, `${name}.sqlite`)
      ])
      console.log(`${name}: done`)
    })
    // One file, filled in a fixed order (an export is sorted by key, so the order only matters for speed).
    const merged = join(work, "all.sqlite")
    for (const [variant, seed] of runsOf(seeds))
      await maspo(["cache", "import", join(work, `${runName(variant, seed)}.jsonl.gz`), "--cache", merged])
    console.log((await maspo(["cache", "export", join(out, "cache.jsonl.gz"), "--cache", merged])).trim())
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  const summary = summarize(out, seeds)
  writeFileSync(join(out, "summary.json"), summaryText(summary))
  printSummary(summary)
}

const replay = async () => {
  const from = flags.from ?? "results/sim/acceptance"
  if (flags.out === undefined)
    throw new InputError({
      source: "--out",
      message: "--replay writes its runs into --out: give a directory"
    })
  const out = flags.out
  if (resolve(out) === resolve(from))
    throw new InputError({
      source: "--out",
      message: `must not be --from (${from}): the replay would overwrite what it checks`
    })
  const exported = join(from, "cache.jsonl.gz")
  if (!existsSync(exported))
    throw new InputError({ source: exported, message: "no exported cache to replay from" })
  const seeds = readJsonAs(SummarySeeds, join(from, "summary.json")).seeds
  if (flags.seeds !== undefined && positiveInt("seeds", flags.seeds) !== seeds.length)
    throw new InputError({
      source: "--seeds",
      message: `${from}/summary.json has ${seeds.length} seeds; a replay recomputes all of them`
    })
  mkdirSync(out, { recursive: true })
  const mismatches: Array<string> = []
  await inParallel(runsOf(seeds), async ([variant, seed]) => {
    const name = runName(variant, seed)
    const dir = join(out, name)
    rmSync(dir, { recursive: true, force: true })
    const stdout = await maspo(optimizeArgs(variant, seed, dir, exported, "replay"))
    const reported = liveCallsReported(stdout)
    if (reported.length !== 2 || reported.some((n) => n !== 0))
      mismatches.push(`${name}: live calls reported ${JSON.stringify(reported)}, expected [0,0]`)
    mismatches.push(...replayMismatches(join(from, name), dir))
    console.log(`${name}: replayed`)
  })
  const summary = summarize(out, seeds)
  writeFileSync(join(out, "summary.json"), summaryText(summary))
  if (summaryText(summary) !== readFileSync(join(from, "summary.json"), "utf8"))
    mismatches.push("summary.json differs")
  printSummary(summary)
  if (mismatches.length > 0) {
    console.error(`replay of ${from} does not reproduce it:\n${mismatches.sort().join("\n")}`)
    process.exitCode = 1
  } else
    console.log(`replay: ${runsOf(seeds).length} runs and summary.json identical to ${from}, 0 live calls`)
}

await (flags.replay ? replay() : live())
