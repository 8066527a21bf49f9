/**
 * Cells run in worker processes, for `maspo run --jobs N`. A simulator experiment or a replay is
 * CPU-bound and one Node process uses one core; cells are independent (each writes only its own
 * directory, from its own seed), so N processes finish in about 1/N of the time with the same files.
 *
 * The protocol is one JSON line each way: the parent writes `{ index, config, out, cache }` (the
 * index is the cell's position in `planCells` of the config file, which the worker reads itself),
 * the worker answers `{ index, ok: true, total }` or `{ index, ok: false, error }` once the cell is
 * done, and takes the next line. A worker whose stdin closes while idle exits; while busy (its
 * parent died), it exits at once, leaving the cell unfinished as a kill would.
 */
import { NodeServices } from "@effect/platform-node"
import type { BudgetReport } from "@maspo/core"
import { Effect, Schema } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { describeError } from "../errors.ts"
import { readJsonAs } from "../output.ts"
import { type Cell, cellLabel, ExperimentConfig, planCells } from "./config.ts"
import { runCell } from "./runCell.ts"

/** Set in a worker's environment: `main.ts` then serves cells instead of parsing a command line. */
export const CELL_WORKER_ENV = "MASPO_CELL_WORKER"

/** A cell failed in a worker (its error, as the worker described it), or a worker died. */
export class CellWorkerError extends Schema.TaggedError<CellWorkerError>()("CellWorkerError", {
  message: Schema.String
}) {}

interface Job {
  readonly index: number
  readonly config: string
  readonly out: string
  readonly cache: { readonly path: string; readonly mode: string }
}

type Answer =
  | { readonly index: number; readonly ok: true; readonly total: BudgetReport | null }
  | { readonly index: number; readonly ok: false; readonly error: string }

/** The worker side: serves jobs from stdin until it closes. */
export const serveCells = (): Promise<void> =>
  new Promise((resolve) => {
    let busy = false
    let closed = false
    const queue: Array<string> = []
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
    const answer = (a: Answer) => process.stdout.write(`${JSON.stringify(a)}\n`)
    const next = (): void => {
      const line = queue.shift()
      if (line === undefined) {
        busy = false
        if (closed) resolve()
        return
      }
      busy = true
      const job = JSON.parse(line) as Job
      const program = Effect.gen(function* () {
        const config = yield* readJsonAs(ExperimentConfig)(job.config)
        const cell = planCells(config)[job.index]
        if (cell === undefined) return yield* new CellWorkerError({ message: `no cell ${job.index}` })
        return yield* runCell(config, job.out, cell, job.cache)
      }).pipe(Effect.provide(NodeServices.layer))
      void Effect.runPromiseExit(program).then((exit) => {
        if (exit._tag === "Success") answer({ index: job.index, ok: true, total: exit.value ?? null })
        else {
          const error = exit.cause.reasons.map((r) =>
            r._tag === "Fail" ? describeError(r.error) : r._tag === "Die" ? String(r.defect) : "interrupted"
          )
          answer({ index: job.index, ok: false, error: error.join("; ") })
        }
        next()
      })
    }
    lines.on("line", (line) => {
      queue.push(line)
      if (!busy) next()
    })
    lines.on("close", () => {
      closed = true
      // The parent died mid-cell: stop now, as a killed sequential run would.
      if (busy) process.exit(1)
      resolve()
    })
  })

interface Worker {
  readonly child: ChildProcess
  /** The answer the worker owes, if it has a job. */
  pending?: (answer: Answer) => void
  failed?: string
}

const startWorker = (): Worker => {
  // The same program as this process (bin/maspo.js, or main.ts under a loader), in worker mode.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
    env: { ...process.env, [CELL_WORKER_ENV]: "1" },
    stdio: ["pipe", "pipe", "inherit"]
  })
  const worker: Worker = { child }
  createInterface({ input: child.stdout!, crlfDelay: Infinity }).on("line", (line) => {
    const pending = worker.pending
    worker.pending = undefined
    pending?.(JSON.parse(line) as Answer)
  })
  child.on("exit", (code, signal) => {
    worker.failed = `a cell worker exited (${signal ?? code})`
    const pending = worker.pending
    worker.pending = undefined
    pending?.({ index: -1, ok: false, error: worker.failed })
  })
  return worker
}

export interface CellWorkers {
  /** Runs the cell with index `index` in `planCells(config)` in a free worker. */
  readonly run: (
    cell: Cell,
    index: number,
    job: Omit<Job, "index">
  ) => Effect.Effect<BudgetReport | undefined, CellWorkerError>
}

/** `jobs` worker processes, stopped when the scope closes. */
export const cellWorkers = (jobs: number) =>
  Effect.acquireRelease(
    Effect.sync(() => Array.from({ length: jobs }, startWorker)),
    (workers) =>
      Effect.promise(() =>
        Promise.all(
          workers.map(
            (w) =>
              new Promise<void>((done) => {
                if (w.child.exitCode !== null || w.child.signalCode !== null) return done()
                w.child.once("exit", () => done())
                w.child.stdin!.end()
              })
          )
        )
      )
  ).pipe(
    Effect.map((workers): CellWorkers => {
      const idle = [...workers]
      const waiting: Array<(w: Worker) => void> = []
      const take = () =>
        new Promise<Worker>((resolve) => {
          const w = idle.pop()
          if (w !== undefined) resolve(w)
          else waiting.push(resolve)
        })
      const give = (w: Worker) => {
        const next = waiting.shift()
        if (next !== undefined) next(w)
        else idle.push(w)
      }
      return {
        run: (cell, index, job) =>
          Effect.flatMap(
            Effect.promise(async () => {
              const w = await take()
              try {
                if (w.failed !== undefined) return { index, ok: false, error: w.failed } as Answer
                return await new Promise<Answer>((resolve) => {
                  w.pending = resolve
                  w.child.stdin!.write(`${JSON.stringify({ index, ...job })}\n`)
                })
              } finally {
                give(w)
              }
            }),
            (answer) =>
              answer.ok
                ? Effect.succeed(answer.total ?? undefined)
                : Effect.fail(new CellWorkerError({ message: `${cellLabel(cell)}: ${answer.error}` }))
          )
      }
    })
  )
