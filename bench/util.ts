import { cpus, platform, release, totalmem } from "node:os"
import { Bench } from "tinybench"

/** One measured figure of the benchmark table. */
export interface Figure {
  readonly group: string
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly note?: string
}

export const figure = (group: string, name: string, value: number, unit: string, note?: string): Figure => ({
  group,
  name,
  value,
  unit,
  ...(note !== undefined ? { note } : {})
})

/** The machine the figures were taken on. */
export const machine = () => ({
  os: `${platform()} ${release()}`,
  cpuModel: cpus()[0]?.model ?? "unknown",
  cpuCount: cpus().length,
  totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  node: process.version
})

/**
 * Operations per second of each function with tinybench; `perIteration` operations happen in one
 * call of a function (a batch of inputs), so the rate is per operation.
 */
export const opsPerSecond = async (
  entries: ReadonlyArray<{
    readonly name: string
    readonly perIteration: number
    readonly fn: () => unknown
  }>,
  timeMs = 1000
): Promise<Array<{ readonly name: string; readonly opsPerSecond: number; readonly samples: number }>> => {
  const bench = new Bench({ time: timeMs, warmupTime: 100 })
  for (const e of entries) bench.add(e.name, e.fn)
  await bench.run()
  return entries.map((e, i) => {
    const result = bench.tasks[i]!.result
    if (result.state !== "completed")
      throw new Error(`benchmark ${e.name} did not complete (${result.state})`)
    return {
      name: e.name,
      opsPerSecond: (e.perIteration * 1000) / result.period,
      samples: result.latency.samplesCount
    }
  })
}

const fmt = (v: number) =>
  Math.abs(v) >= 1000 ? Math.round(v).toLocaleString("en-US") : Number(v.toPrecision(4)).toString()

/** The table printed by `npm run bench`. */
export const formatTable = (figures: ReadonlyArray<Figure>): string => {
  const rows = figures.map((f) => [f.group, f.name, fmt(f.value), f.unit, f.note ?? ""])
  const head = ["group", "figure", "value", "unit", "note"]
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (r: ReadonlyArray<string>) =>
    r
      .map((cell, c) => (c === 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd()
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n")
}

export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`)
