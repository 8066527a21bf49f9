/**
 * Replay: a simulator experiment run live through `maspo serve` and the OpenAI-compatible provider
 * into a fresh cache, then replayed from the cache with the server stopped. Reports the replay's wall
 * time, its calls and the harness cost per cached call, as a child process (start-up included) and
 * in-process (the command alone). Also the peak RSS of the live run and of the replay.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli, runOptimizeInProcess, startServe } from "./processes.ts"
import { type Figure, figure, log } from "./util.ts"

const EXPERIMENT = ["--task", "arith", "--mas", "sequential", "--seed", "1", "--test-n", "100"]
const provider = (url: string, cache: string) => [
  "--model",
  "maspo-sim-1",
  "--base-url",
  url,
  "--cache",
  cache
]

interface Tally {
  readonly calls: number
  readonly cacheHits: number
  readonly liveCalls: number
}
const sumRoles = (budget: Record<string, Tally>): Tally =>
  Object.values(budget).reduce(
    (a, t) => ({
      calls: a.calls + t.calls,
      cacheHits: a.cacheHits + t.cacheHits,
      liveCalls: a.liveCalls + t.liveCalls
    }),
    { calls: 0, cacheHits: 0, liveCalls: 0 }
  )

/** Calls of a finished run: the last step's cumulative budget plus the test evaluation's. */
export const runCalls = (out: string): Tally => {
  const steps = readFileSync(join(out, "steps.jsonl"), "utf8").trim().split("\n")
  const last = JSON.parse(steps[steps.length - 1]!) as { budget: Record<string, Tally> }
  const test = JSON.parse(readFileSync(join(out, "test.json"), "utf8")) as { budget: Record<string, Tally> }
  const a = sumRoles(last.budget)
  const b = sumRoles(test.budget)
  return {
    calls: a.calls + b.calls,
    cacheHits: a.cacheHits + b.cacheHits,
    liveCalls: a.liveCalls + b.liveCalls
  }
}

const check = (what: string, r: { code: number | null; stderr: string }) => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr.slice(-2000)}`)
}

export const replayBenchmarks = async (): Promise<Array<Figure>> => {
  const work = mkdtempSync(join(tmpdir(), "maspo-bench-replay-"))
  try {
    const cache = join(work, "c.sqlite")
    const server = await startServe([], work)
    let live
    try {
      live = await runCli(
        ["optimize", ...EXPERIMENT, ...provider(server.url, cache), "--out", join(work, "live")],
        work
      )
    } finally {
      await server.stop()
    }
    check("live optimize", live)
    const liveCalls = runCalls(join(work, "live"))
    log(
      `replay: live run ${(live.wallMs / 1000).toFixed(1)} s, ${liveCalls.calls} calls (${liveCalls.liveCalls} live)`
    )

    const replayArgs = [
      "optimize",
      ...EXPERIMENT,
      ...provider("http://127.0.0.1:9/v1", cache),
      "--cache-mode",
      "replay"
    ]
    const replay = await runCli([...replayArgs, "--out", join(work, "replay")], work)
    check("replay", replay)
    const calls = runCalls(join(work, "replay"))
    if (calls.cacheHits !== calls.calls || calls.liveCalls !== 0)
      throw new Error(`the replay made live calls: ${JSON.stringify(calls)}`)
    for (const f of ["prompts.json", "steps.jsonl"]) {
      const norm = (s: string) => s.replace(/"(liveCalls|cacheHits)":\s*\d+/g, "")
      if (
        norm(readFileSync(join(work, "live", f), "utf8")) !==
        norm(readFileSync(join(work, "replay", f), "utf8"))
      )
        throw new Error(`the replay's ${f} differs from the live run's`)
    }
    const inProcess = await runOptimizeInProcess(
      replayArgs.slice(1).concat(["--out", join(work, "replay2")]),
      work
    )
    const calls2 = runCalls(join(work, "replay2"))
    const perCallUs = (ms: number, n: number) => (ms * 1000) / n
    const figures = [
      figure(
        "replay",
        "live run through maspo serve (child process)",
        live.wallMs / 1000,
        "s",
        `${liveCalls.calls} calls`
      ),
      figure("replay", "replay wall time (child process)", replay.wallMs / 1000, "s", "start-up included"),
      figure("replay", "replay calls", calls.calls, "calls", "all cache hits, 0 live"),
      figure(
        "replay",
        "replay cached calls per second (child process)",
        (calls.calls * 1000) / replay.wallMs,
        "calls/s"
      ),
      figure(
        "replay",
        "per-call overhead (child process)",
        perCallUs(replay.wallMs, calls.calls),
        "µs/call",
        "target < 50"
      ),
      figure("replay", "replay wall time (in-process)", inProcess.wallMs / 1000, "s", "the command alone"),
      figure(
        "replay",
        "replay cached calls per second (in-process)",
        (calls2.calls * 1000) / inProcess.wallMs,
        "calls/s"
      ),
      figure(
        "replay",
        "per-call overhead (in-process)",
        perCallUs(inProcess.wallMs, calls2.calls),
        "µs/call",
        "target < 50"
      )
    ]
    if (live.maxRssKiB !== undefined)
      figures.push(
        figure(
          "memory",
          "peak RSS, live run via HTTP + cache",
          live.maxRssKiB / 1024,
          "MiB",
          "/usr/bin/time -v"
        )
      )
    if (replay.maxRssKiB !== undefined)
      figures.push(figure("memory", "peak RSS, replay", replay.maxRssKiB / 1024, "MiB", "/usr/bin/time -v"))
    figures.push(
      figure(
        "memory",
        "peak RSS, replay (in-process wrapper)",
        inProcess.maxRssKiB / 1024,
        "MiB",
        "process.resourceUsage().maxRSS"
      )
    )
    return figures
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

/** Peak RSS of a full default simulator run (`maspo optimize --task arith`, test evaluation included). */
export const memoryBenchmarks = async (): Promise<Array<Figure>> => {
  const work = mkdtempSync(join(tmpdir(), "maspo-bench-memory-"))
  try {
    const sim = await runCli(["optimize", "--task", "arith", "--seed", "1", "--out", join(work, "sim")], work)
    check("simulator optimize", sim)
    const calls = runCalls(join(work, "sim"))
    const figures = [
      figure(
        "memory",
        "full simulator run wall time (child process)",
        sim.wallMs / 1000,
        "s",
        `${calls.calls} calls`
      )
    ]
    if (sim.maxRssKiB !== undefined)
      figures.push(
        figure("memory", "peak RSS, full simulator run", sim.maxRssKiB / 1024, "MiB", "/usr/bin/time -v")
      )
    const inProcess = await runOptimizeInProcess(
      ["--task", "arith", "--seed", "1", "--out", join(work, "sim2")],
      work
    )
    figures.push(
      figure(
        "memory",
        "peak RSS, full simulator run (in-process wrapper)",
        inProcess.maxRssKiB / 1024,
        "MiB",
        "process.resourceUsage().maxRSS"
      )
    )
    return figures
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
