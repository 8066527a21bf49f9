/**
 * Live throughput of the real provider client against `maspo serve --latency-ms 100`: WAVES x
 * concurrency distinct requests per level (distinct, so single-flight merges none), issued by a caller
 * that keeps `concurrency` of them in flight, as the executor does; calls per second as a fraction of
 * the limit concurrency / latency.
 */
import { openAiClient } from "@maspo/core/openai"
import { Effect, Redacted } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startServe } from "./processes.ts"
import { type Figure, figure, log } from "./util.ts"

export const LATENCY_MS = 100
export const LEVELS = [1, 8, 32, 128] as const
/** Waves per level: a steady state, not dominated by the first wave's burst. */
export const WAVES = 20

export const liveBenchmarks = async (): Promise<Array<Figure>> => {
  const work = mkdtempSync(join(tmpdir(), "maspo-bench-live-"))
  const server = await startServe(["--latency-ms", String(LATENCY_MS)], work)
  try {
    const figures: Array<Figure> = []
    for (const concurrency of LEVELS) {
      const n = WAVES * concurrency
      const program = Effect.gen(function* () {
        const client = yield* openAiClient({
          role: "agent",
          baseUrl: server.url,
          model: "maspo-sim-1",
          apiKey: Redacted.make("unused"),
          concurrency,
          timeoutMs: 30_000
        })
        // A warm-up wave (not counted) opens the connections, as in a long run.
        yield* Effect.forEach(
          Array.from({ length: concurrency }, (_, i) => -1 - i),
          (i) => client.generate(request(i, concurrency)),
          { concurrency: "unbounded", discard: true }
        )
        const start = performance.now()
        const cpu = process.cpuUsage()
        yield* Effect.forEach(
          Array.from({ length: n }, (_, i) => i),
          (i) => client.generate(request(i, concurrency)),
          { concurrency, discard: true }
        )
        const wallMs = performance.now() - start
        const used = process.cpuUsage(cpu)
        return { wallMs, stats: client.stats(), clientCpu: (used.user + used.system) / 1000 / wallMs }
      })
      const { wallMs, stats, clientCpu } = await Effect.runPromise(program)
      if (stats.joined !== 0) throw new Error(`single-flight merged ${stats.joined} requests`)
      const rate = (n * 1000) / wallMs
      const limit = (concurrency * 1000) / LATENCY_MS
      log(
        `live: concurrency ${concurrency}: ${rate.toFixed(1)} calls/s of ${limit} (${((100 * rate) / limit).toFixed(1)}%), client CPU ${(100 * clientCpu).toFixed(0)}% of a core`
      )
      figures.push(
        figure(
          "live",
          `concurrency ${concurrency}: calls/s`,
          rate,
          "calls/s",
          `${n} requests, limit ${limit}/s`
        ),
        figure(
          "live",
          `concurrency ${concurrency}: fraction of limit`,
          (100 * rate) / limit,
          "%",
          concurrency >= 32 ? "target >= 90" : undefined
        ),
        figure(
          "live",
          `concurrency ${concurrency}: client process CPU`,
          100 * clientCpu,
          "% of a core",
          "the server runs in another process"
        )
      )
    }
    return figures
  } finally {
    await server.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

const request = (i: number, level: number) => ({
  messages: [
    {
      role: "user" as const,
      content: `Problem live-${level}-${i}: compute 3 + ${i}. Put the final answer in <answer></answer> tags.`
    }
  ],
  model: "maspo-sim-1",
  temperature: 0,
  maxTokens: 64,
  seed: 1,
  sampleIndex: 0
})
