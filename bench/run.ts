/**
 * `npm run bench`: every benchmark group in turn, a table on stdout, results/bench.json with the
 * machine and the date. `npm run bench -- scorers cache` runs only the named groups.
 */
import { mkdirSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { cacheBenchmarks } from "./cache.ts"
import { callBenchmarks } from "./calls.ts"
import { liveBenchmarks } from "./live.ts"
import { memoryBenchmarks, replayBenchmarks } from "./replay.ts"
import { sandboxBenchmarks } from "./sandbox.ts"
import { scorerBenchmarks } from "./scorers.ts"
import { type Figure, formatTable, log, machine } from "./util.ts"

const GROUPS: ReadonlyArray<readonly [string, () => Promise<Array<Figure>>]> = [
  ["scorers", scorerBenchmarks],
  ["cache", cacheBenchmarks],
  ["replay", replayBenchmarks],
  ["live", liveBenchmarks],
  ["sandbox", sandboxBenchmarks],
  ["memory", memoryBenchmarks],
  ["calls", callBenchmarks]
]

const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !GROUPS.some(([name]) => name === w))
if (unknown.length > 0) {
  console.error(
    `unknown benchmark group(s): ${unknown.join(", ")}; known: ${GROUPS.map(([n]) => n).join(", ")}`
  )
  process.exit(2)
}

const started = Date.now()
const figures: Array<Figure> = []
const seconds: Record<string, number> = {}
for (const [name, run] of GROUPS) {
  if (wanted.length > 0 && !wanted.includes(name)) continue
  log(`${name}...`)
  const t0 = Date.now()
  figures.push(...(await run()))
  seconds[name] = (Date.now() - t0) / 1000
}
const totalSeconds = (Date.now() - started) / 1000

console.log(formatTable(figures))
console.log(`\n${figures.length} figures in ${totalSeconds.toFixed(1)} s on ${JSON.stringify(machine())}`)

const out = fileURLToPath(new URL("../results/bench.json", import.meta.url))
mkdirSync(fileURLToPath(new URL("../results/", import.meta.url)), { recursive: true })
writeFileSync(
  out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine: machine(),
      groups: wanted.length > 0 ? wanted : GROUPS.map(([n]) => n),
      seconds,
      totalSeconds,
      figures
    },
    null,
    2
  ) + "\n"
)
console.log(`wrote ${out}`)
