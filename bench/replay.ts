/**
 * The whole bundled simulator experiment (`results/sim-table.json`: 48 cells, ~149k LLM calls), as
 * users run it, in a child process with start-up included:
 * - replay: `maspo run results/sim-table.json --replay`, every call served from the committed cache
 *   export, in one process and with `--jobs 2`; wall time, cached calls per second and the harness's
 *   cost per cached call (target < 50 µs), the median of three runs each; peak RSS.
 * - memory: the same experiment run live on the simulator with the cache off; wall time and peak RSS.
 * Both must rewrite the committed tables byte for byte, or the figures are not reported.
 */
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Finished, runCli } from "./processes.ts"
import { type Figure, figure, log } from "./util.ts"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const CONFIG = join(ROOT, "results/sim-table.json")
const PUBLISHED = join(ROOT, "results/sim")
const RUNS = 3

interface Tally {
  readonly calls: number
  readonly cacheHits: number
  readonly liveCalls: number
}

/** Every file under `dir`, by path relative to it. */
const files = (dir: string, prefix = ""): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const rel = prefix === "" ? name : `${prefix}/${name}`
    return statSync(join(dir, name)).isDirectory() ? files(join(dir, name), rel) : [rel]
  })

/** LLM calls of a finished experiment: the sum over its cells' manifests. */
export const experimentCalls = (out: string): Tally => {
  const total = { calls: 0, cacheHits: 0, liveCalls: 0 }
  for (const f of files(join(out, "cells")).filter((f) => f.endsWith("manifest.json"))) {
    const m = JSON.parse(readFileSync(join(out, "cells", f), "utf8")) as {
      budget: { total: Record<string, { calls: number }> | null }
      cache: { liveCalls: number; cacheHits: number }
    }
    for (const role of Object.values(m.budget.total ?? {})) total.calls += role.calls
    total.cacheHits += m.cache.cacheHits
    total.liveCalls += m.cache.liveCalls
  }
  return total
}

const check = (what: string, r: Finished) => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr.slice(-2000)}`)
}

/** The run's tables must be the committed ones, byte for byte. */
const sameTables = (what: string, out: string) => {
  const published = files(join(PUBLISHED, "tables"))
  for (const f of published)
    if (readFileSync(join(out, "tables", f), "utf8") !== readFileSync(join(PUBLISHED, "tables", f), "utf8"))
      throw new Error(`${what}: tables/${f} differs from the committed results/sim`)
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** `RUNS` replays with `jobs` worker processes (1: the cells run in the CLI process itself). */
const replays = async (work: string, jobs: number) => {
  const walls: Array<number> = []
  const rss: Array<number> = []
  let calls: Tally = { calls: 0, cacheHits: 0, liveCalls: 0 }
  for (let r = 0; r < RUNS; r++) {
    const out = join(work, `replay-j${jobs}-${r}`)
    // A replay reads the output directory's export.
    mkdirSync(out)
    copyFileSync(join(PUBLISHED, "cache.jsonl.gz"), join(out, "cache.jsonl.gz"))
    const replay = await runCli(["run", CONFIG, "--replay", "--jobs", String(jobs), "--out", out], ROOT)
    check("replay", replay)
    calls = experimentCalls(out)
    if (calls.liveCalls !== 0 || calls.cacheHits !== calls.calls)
      throw new Error(`the replay made live calls: ${JSON.stringify(calls)}`)
    sameTables("replay", out)
    walls.push(replay.wallMs)
    if (replay.maxRssKiB !== undefined) rss.push(replay.maxRssKiB)
    log(
      `replay --jobs ${jobs} ${r + 1}/${RUNS}: ${(replay.wallMs / 1000).toFixed(2)} s, ${calls.calls} cached calls`
    )
  }
  return { walls, rss, calls }
}

export const replayBenchmarks = async (): Promise<Array<Figure>> => {
  const work = mkdtempSync(join(tmpdir(), "maspo-bench-replay-"))
  try {
    const figures: Array<Figure> = []
    for (const jobs of [1, 2]) {
      const { walls, rss, calls } = await replays(work, jobs)
      const wall = median(walls)
      const how = jobs === 1 ? "one process" : `--jobs ${jobs}`
      const spread = `median of ${RUNS}: ${walls.map((w) => (w / 1000).toFixed(2)).join(", ")} s`
      if (jobs === 1)
        figures.push(
          figure("replay", "whole experiment replay: cached calls", calls.calls, "calls", "48 cells, 0 live")
        )
      figures.push(
        figure(
          "replay",
          `whole experiment replay, ${how}: wall time`,
          wall / 1000,
          "s",
          `start-up included; ${spread}`
        ),
        figure(
          "replay",
          `whole experiment replay, ${how}: cached calls per second`,
          (calls.calls * 1000) / wall,
          "calls/s"
        ),
        figure(
          "replay",
          `whole experiment replay, ${how}: harness time per cached call`,
          (wall * 1000) / calls.calls,
          "µs/call",
          "target < 50; whole command wall time / calls"
        )
      )
      if (rss.length > 0)
        figures.push(
          figure(
            "memory",
            `peak RSS, whole experiment replay, ${how}`,
            median(rss) / 1024,
            "MiB",
            jobs > 1 ? "/usr/bin/time -v: the largest one process (parent or a worker)" : "/usr/bin/time -v"
          )
        )
    }
    return figures
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** The whole experiment run live on the simulator (cache off): wall time and peak RSS. */
export const memoryBenchmarks = async (): Promise<Array<Figure>> => {
  const work = mkdtempSync(join(tmpdir(), "maspo-bench-memory-"))
  try {
    const out = join(work, "live")
    const config = JSON.parse(readFileSync(CONFIG, "utf8")) as Record<string, unknown>
    // Its own output directory (so the committed cache export is not loaded) and no cache at all.
    writeFileSync(join(work, "live.json"), JSON.stringify({ ...config, out, cache: { mode: "off" } }))
    const live = await runCli(["run", join(work, "live.json")], ROOT)
    check("live simulator experiment", live)
    const calls = experimentCalls(out)
    if (calls.cacheHits !== 0) throw new Error(`the live run had cache hits: ${JSON.stringify(calls)}`)
    sameTables("live simulator experiment", out)
    const figures = [
      figure(
        "memory",
        "whole experiment, live simulator: wall time",
        live.wallMs / 1000,
        "s",
        `${calls.calls} calls, cache off, start-up included`
      )
    ]
    if (live.maxRssKiB !== undefined)
      figures.push(
        figure(
          "memory",
          "peak RSS, whole experiment, live simulator",
          live.maxRssKiB / 1024,
          "MiB",
          "/usr/bin/time -v"
        )
      )
    return figures
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
