/**
 * The acceptance experiment's layout and summary (scripts/sim-acceptance.ts runs it): one directory
 * per variant and seed, and `summary.json` computed from their prompt sets and test results.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { InputError, mean, pairedBootstrap, pairedPermutationTest, PromptSet } from "@maspo/core"
import {
  arithTestItems,
  distanceToOptimum,
  expectedAccuracy,
  SIM_OPTIMUM,
  simSequential
} from "@maspo/core/sim"
import { Schema } from "effect"
import { asReplayed } from "./replayedBudgets.ts"

export const VARIANTS = { maspo: [], "local-only": ["--ablation", "local-only"] } as const
export type Variant = keyof typeof VARIANTS
export const runName = (variant: Variant, seed: number) => `${variant}-seed${seed}`

/** `maspo optimize` arguments of one run, its calls cached in `cache` (mode `mode`). */
export const optimizeArgs = (variant: Variant, seed: number, dir: string, cache: string, mode: string) => [
  "optimize",
  "--task",
  "arith",
  "--mas",
  "sequential",
  "--seed",
  String(seed),
  "--test-n",
  "500",
  ...VARIANTS[variant],
  "--cache",
  cache,
  "--cache-mode",
  mode,
  "--out",
  dir
]

/** The budget lines' totals (`total calls N live L ...`): one for the optimization, one for the test. */
export const liveCallsReported = (stdout: string) =>
  [...stdout.matchAll(/^\s*total\s+calls\s+\d+\s+live\s+(\d+)/gm)].map((m) => Number(m[1]))

/** The summary's fields that a replay needs before it recomputes anything. */
export const SummarySeeds = Schema.Struct({ seeds: Schema.Array(Schema.Int) })
const TestAccuracy = Schema.Struct({ optimized: Schema.Struct({ accuracy: Schema.Number }) })

export const readJsonAs = <S extends Schema.Top>(schema: S, file: string): S["Type"] => {
  const text = readFileSync(file, "utf8")
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (e) {
    throw new InputError({ source: file, message: `invalid JSON: ${(e as Error).message}` })
  }
  try {
    return Schema.decodeUnknownSync(schema as never)(raw) as S["Type"]
  } catch (e) {
    throw new InputError({ source: file, message: (e as Error).message })
  }
}

/** summary.json: per seed, each variant's distance, exact and simulated accuracy; paired comparisons. */
export const summarize = (out: string, seeds: ReadonlyArray<number>) => {
  const items = arithTestItems()
  const measure = (variant: Variant, seed: number) => {
    const dir = join(out, runName(variant, seed))
    const prompts = readJsonAs(PromptSet, join(dir, "prompts.json"))
    const test = readJsonAs(TestAccuracy, join(dir, "test.json"))
    return {
      distance: distanceToOptimum("sequential", prompts),
      exact: expectedAccuracy(simSequential, prompts, items),
      simulated: test.optimized.accuracy
    }
  }
  const rows = seeds.map((seed) => ({
    seed,
    maspo: measure("maspo", seed),
    local: measure("local-only", seed)
  }))
  const compare = (key: "distance" | "exact" | "simulated") => {
    const a = rows.map((r) => r.maspo[key])
    const b = rows.map((r) => r.local[key])
    const boot = pairedBootstrap(a, b, { seed: 1, resamples: 10_000 })
    return {
      maspo: mean(a),
      localOnly: mean(b),
      difference: boot.diff,
      ci95: boot.ci,
      permutationP: pairedPermutationTest(a, b, { seed: 2 }).pValue
    }
  }
  return {
    topology: "sequential",
    seeds,
    optimum: SIM_OPTIMUM.sequential.accuracy,
    seedPrompts: SIM_OPTIMUM.sequential.seedAccuracy,
    rows,
    distance: compare("distance"),
    exactAccuracy: compare("exact"),
    simulatedAccuracy: compare("simulated")
  }
}
export type Summary = ReturnType<typeof summarize>

export const summaryText = (summary: Summary) => `${JSON.stringify(summary, null, 2)}\n`

/** Files a run writes that are not results: the resume checkpoint (not committed). */
const NOT_RESULTS = new Set(["checkpoint.json"])
export const resultFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => !NOT_RESULTS.has(f))
    .sort()

/** Every run of the experiment, in a fixed order: per seed, MASPO then local-only. */
export const runsOf = (seeds: ReadonlyArray<number>) =>
  seeds.flatMap((seed) => (Object.keys(VARIANTS) as Array<Variant>).map((v) => [v, seed] as const))

/**
 * How a replayed run's directory differs from the recorded one: the same result files, each the
 * recorded bytes but for the budget records' live/cached split (`asReplayed`). Empty when identical.
 */
export const replayMismatches = (recorded: string, replayed: string): Array<string> => {
  const expected = resultFiles(recorded)
  const got = resultFiles(replayed)
  const mismatches =
    JSON.stringify(got) === JSON.stringify(expected)
      ? []
      : [`${replayed}: files ${got.join(", ")}; recorded ${expected.join(", ")}`]
  for (const f of expected.filter((f) => got.includes(f)))
    if (readFileSync(join(replayed, f), "utf8") !== asReplayed(readFileSync(join(recorded, f), "utf8")))
      mismatches.push(`${join(replayed, f)} differs from ${join(recorded, f)}`)
  return mismatches
}
