/**
 * Code sandbox: MBPP canonical solutions scored through the task's scorer (`mbppTask`, one Python
 * process per program), all cores busy. Executions per second over the whole sanitized set.
 */
import type { TaskItem } from "@maspo/core"
import { makeSandbox, type MbppMeta, mbppTask, resolveDataDir } from "@maspo/benchmarks"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { join } from "node:path"
import { type Figure, figure, log } from "./util.ts"

interface MbppRow {
  readonly task_id: number
  readonly code: string
  readonly test_imports: Array<string>
  readonly test_list: Array<string>
  readonly prompt: string
}

export const sandboxBenchmarks = async (): Promise<Array<Figure>> => {
  const file = join(resolveDataDir(), "mbpp", "sanitized-mbpp.jsonl")
  const rows = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as MbppRow)
  const items: Array<TaskItem> = rows.map((r) => ({
    id: String(r.task_id),
    question: r.prompt,
    gold: r.code,
    meta: { testImports: r.test_imports, tests: r.test_list } satisfies MbppMeta
  }))
  const cores = availableParallelism()
  const task = mbppTask({ sandbox: makeSandbox({ concurrency: cores }) })
  const start = performance.now()
  const scores = await Effect.runPromise(
    Effect.forEach(items, (item, i) => task.score(item, "```python\n" + rows[i]!.code + "\n```"), {
      concurrency: "unbounded"
    })
  )
  const wallMs = performance.now() - start
  const passed = scores.filter((s) => s === 1).length
  log(`sandbox: ${items.length} MBPP programs in ${(wallMs / 1000).toFixed(1)} s, ${passed} passed`)
  return [
    figure(
      "sandbox",
      "MBPP canonical solutions: executions/s",
      (items.length * 1000) / wallMs,
      "runs/s",
      `${items.length} programs, ${cores} at once`
    ),
    figure(
      "sandbox",
      "MBPP canonical solutions: wall time",
      wallMs / 1000,
      "s",
      `${passed}/${items.length} passed`
    ),
    figure("sandbox", "mean wall time per execution per core", (wallMs * cores) / items.length, "ms")
  ]
}
