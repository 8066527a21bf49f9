/**
 * MASPO against its local-only ablation on the simulator's conflict topology (sequential
 * solver -> reviewer), over several seeds, through the real CLI. For each seed and variant it runs
 * `maspo optimize`, then measures the optimized prompt set's distance to the documented optimum,
 * its exact expected accuracy on the 500 test items, and its simulated test accuracy (test.json).
 *
 * Usage: npx tsx scripts/sim-acceptance.ts [--seeds 10] [--out results/sim/acceptance] [--jobs 4]
 */
import { spawn } from "node:child_process"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { mean, pairedBootstrap, pairedPermutationTest, type PromptSet } from "@maspo/core"
import {
  arithTestItems,
  distanceToOptimum,
  expectedAccuracy,
  SIM_OPTIMUM,
  simSequential
} from "@maspo/core/sim"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const seeds = Array.from({ length: Number(arg("seeds", "10")) }, (_, i) => i + 1)
const out = arg("out", "results/sim/acceptance")
const jobs = Number(arg("jobs", "4"))
const bin = fileURLToPath(new URL("../bin/maspo.js", import.meta.url))

const VARIANTS = { maspo: [], "local-only": ["--ablation", "local-only"] } as const
type Variant = keyof typeof VARIANTS

const runOne = (variant: Variant, seed: number) =>
  new Promise<void>((resolve, reject) => {
    const dir = join(out, `${variant}-seed${seed}`)
    const args = [
      "optimize",
      "--task",
      "arith",
      "--mas",
      "sequential",
      "--seed",
      String(seed),
      "--test-n",
      "500"
    ]
    const child = spawn(process.execPath, [bin, ...args, ...VARIANTS[variant], "--out", dir], {
      stdio: "ignore"
    })
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${variant} seed ${seed}: exit ${code}`))
    )
  })

const queue = seeds.flatMap((seed) =>
  (Object.keys(VARIANTS) as Array<Variant>).map((v) => [v, seed] as const)
)
mkdirSync(out, { recursive: true })
await Promise.all(
  Array.from({ length: jobs }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await runOne(...next)
  })
)

const items = arithTestItems()
const measure = (variant: Variant, seed: number) => {
  const dir = join(out, `${variant}-seed${seed}`)
  const prompts = JSON.parse(readFileSync(join(dir, "prompts.json"), "utf8")) as PromptSet
  const test = JSON.parse(readFileSync(join(dir, "test.json"), "utf8")) as { optimized: { accuracy: number } }
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
const summary = {
  topology: "sequential",
  seeds,
  optimum: SIM_OPTIMUM.sequential.accuracy,
  seedPrompts: SIM_OPTIMUM.sequential.seedAccuracy,
  rows,
  distance: compare("distance"),
  exactAccuracy: compare("exact"),
  simulatedAccuracy: compare("simulated")
}
writeFileSync(join(out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`)
const pct = (x: number) => `${(100 * x).toFixed(1)}%`
const line = (name: string, c: ReturnType<typeof compare>, f: (x: number) => string) =>
  `| ${name} | ${f(c.maspo)} | ${f(c.localOnly)} | ${f(c.difference)} [${f(c.ci95.low)}, ${f(c.ci95.high)}] | ${c.permutationP.toFixed(4)} |`
console.log(
  [
    `${seeds.length} seeds, sequential (solver -> reviewer); seed prompts ${pct(summary.seedPrompts)}, optimum ${pct(summary.optimum)}`,
    "| measure | MASPO | local-only | difference, 95% CI (paired bootstrap over seeds) | permutation p |",
    "|---|---|---|---|---|",
    line("distance to optimum (directive edits)", summary.distance, (x) => x.toFixed(2)),
    line("exact expected test accuracy", summary.exactAccuracy, pct),
    line("simulated test accuracy (500 items)", summary.simulatedAccuracy, pct)
  ].join("\n")
)
