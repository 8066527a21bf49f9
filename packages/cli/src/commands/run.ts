import { exportCache, importCache, isImported, replaySnapshot } from "@maspo/core/cache"
import { InputError, PositiveInt, totalTally } from "@maspo/core"
import { Clock, Console, Effect, FileSystem, Option, Ref } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { type Cell, cellLabel, ExperimentConfig, planCells } from "../experiment/config.ts"
import { cellWorkers } from "../experiment/cellWorkers.ts"
import { cellOptimizerConfig, isCellComplete, runCell } from "../experiment/runCell.ts"
import { buildTables, describeLeftOut } from "../experiment/tables.ts"
import { METHOD_NAMES } from "../optimization.ts"
import { ensureCacheDirectory, ensureWritableDirectory } from "../files.ts"
import { defaulted, defaultWhen } from "../help.ts"
import { readJsonLocated, writeJson } from "../output.ts"
import {
  checkFlags,
  type FieldPath,
  type Problem,
  problemsError,
  unknownNameMessage
} from "../configProblems.ts"
import { NOT_OPTIMIZABLE, SELF_REFINE, systemProblem, taskProblem } from "../registry.ts"
import { describeWithholding, withholdingFor } from "../publishing.ts"

const flags = {
  config: Argument.String("config").pipe(Argument.withDescription("Experiment config (JSON)")),
  out: Flag.String("out").pipe(
    Flag.withDescription(defaultWhen("Output directory", "the config's `out`")),
    Flag.optional
  ),
  replay: defaulted(
    Flag.Boolean("replay"),
    false,
    "Recompute every cell from the exported cache of the output directory (<out>/cache.jsonl.gz; with --out DIR, DIR's) with no live call; a missing answer is an error"
  ),
  concurrency: Flag.Int("concurrency").pipe(
    Flag.withDescription(
      defaultWhen("Cells run at the same time in this process", "the config's `concurrency`, else 1")
    ),
    Flag.optional
  ),
  jobs: defaulted(
    Flag.Int("jobs"),
    1,
    "Worker processes running cells in parallel, one cell each (1: none, cells run in this process); results are the same, CPU-bound runs finish sooner"
  )
}

const formatDuration = (ms: number) => {
  const s = Math.round(ms / 1000)
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${s % 60}s`
      : `${s}s`
}

/**
 * What a schema cannot say about an experiment: unique method names and seeds, each method's
 * required fields, and tasks and topologies that exist. `where` names the file and line of a field.
 */
export const validateExperiment = (config: ExperimentConfig, where: (path: FieldPath) => string) => {
  const problems: Array<Problem> = []
  const names = config.methods.map((m) => m.name)
  for (const [i, n] of names.entries())
    if (names.indexOf(n) !== i)
      problems.push({ path: ["methods", i, "name"], message: `method name '${n}' is used twice` })
  for (const [i, m] of config.methods.entries()) {
    if (m.kind === "single" && m.system === undefined)
      problems.push({ path: ["methods", i], message: `method '${m.name}': kind 'single' needs a 'system'` })
    if (
      !["seed", "single", "transfer"].includes(m.kind) &&
      !(METHOD_NAMES as ReadonlyArray<string>).includes(m.kind)
    )
      problems.push({
        path: ["methods", i, "kind"],
        message: `method '${m.name}': kind '${m.kind}' is not available in this build`
      })
    const search = cellOptimizerConfig(config, { task: "", topology: "", method: m, seed: 0 })
    if (m.kind === "maspo" && search.batchSize > search.poolSize)
      problems.push({
        path: ["methods", i, ...(m.optimizer?.batchSize !== undefined ? ["optimizer", "batchSize"] : [])],
        message: `method '${m.name}': batch size ${search.batchSize} exceeds the pool size ${search.poolSize}`
      })
    if (m.kind === "transfer" && !config.methods.some((x) => x.name === m.from && x.kind !== "transfer"))
      problems.push({
        path: ["methods", i, "from"],
        message: `method '${m.name}': transfer needs 'from' naming a non-transfer method`
      })
  }
  if (config.seeds.length === 0) problems.push({ path: ["seeds"], message: "at least one seed is needed" })
  // Two cells with one seed would share a folder and race.
  for (const [i, s] of config.seeds.entries())
    if (config.seeds.indexOf(s) !== i)
      problems.push({ path: ["seeds", i], message: `seed ${s} is listed twice` })
  for (const [i, task] of config.tasks.entries()) {
    const problem = taskProblem(task)
    if (problem !== undefined) problems.push({ path: ["tasks", i], message: problem })
  }
  for (const [j, topology] of config.topologies.entries()) {
    for (const task of config.tasks) {
      const problem = systemProblem(task, topology)
      if (problem !== undefined) problems.push({ path: ["topologies", j], message: problem })
    }
    const optimizing = config.methods.filter((m) => !["seed", "single"].includes(m.kind))
    if (topology === SELF_REFINE && optimizing.length > 0)
      problems.push({
        path: ["topologies", j],
        message: `${NOT_OPTIMIZABLE}; methods ${optimizing.map((m) => `'${m.name}'`).join(", ")} would optimize it`
      })
  }
  if (config.baseline !== undefined && !names.includes(config.baseline))
    problems.push({ path: ["baseline"], message: unknownNameMessage("method", config.baseline, names) })
  if (config.paper !== undefined) problems.push(...paperProblems(config.paper, config, ["paper"]))
  return problems.length === 0 ? Effect.void : Effect.fail(problemsError(problems, where))
}

/** Published numbers under a name that is not a row or a column would never be printed. */
export const paperProblems = (
  paper: Readonly<Record<string, Readonly<Record<string, number>>>>,
  config: ExperimentConfig,
  at: FieldPath
): Array<Problem> => {
  const methods = config.methods.map((m) => m.name)
  const columns = [...config.tasks, "Avg."]
  return Object.entries(paper).flatMap(([method, row]) => [
    ...(methods.includes(method)
      ? []
      : [{ path: [...at, method], message: unknownNameMessage("method", method, methods) }]),
    ...Object.keys(row)
      .filter((task) => !columns.includes(task))
      .map((task) => ({ path: [...at, method, task], message: unknownNameMessage("task", task, columns) }))
  ])
}

export const runCommand = Command.make(
  "run",
  flags,
  Effect.fn("maspo.run")(function* (input) {
    const fs = yield* FileSystem.FileSystem
    yield* checkFlags([
      ["--concurrency", PositiveInt, input.concurrency],
      ["--jobs", PositiveInt, input.jobs]
    ])
    const { value: config, where } = yield* readJsonLocated(ExperimentConfig, { flag: "experiment config" })(
      input.config
    )
    yield* validateExperiment(config, where)
    const out = Option.getOrElse(input.out, () => config.out)
    // Before any cell runs: an output folder that cannot be written fails before anything is paid for.
    yield* ensureWritableDirectory(out, Option.isSome(input.out) ? "--out" : `out of ${input.config}`)
    // The export read, seeded from and written is the output directory's: with --out, DIR's, never
    // the config's (a replay into a scratch directory must not read another experiment's cache).
    const exported = `${out}/cache.jsonl.gz`
    let cache = {
      path: config.cache?.path ?? `${out}/cache.sqlite`,
      mode: config.cache?.mode ?? "read-write"
    }
    if (input.replay) {
      if (!(yield* fs.exists(exported)))
        return yield* new InputError({
          source: exported,
          message:
            "no exported cache to replay from (a replay reads the output directory's export: copy the experiment's cache.jsonl.gz there)"
        })
      // Replayed straight from the export: its answers are held in memory, with no SQLite file in
      // between (see `replaySnapshot`).
      if (input.jobs > 1) {
        // Each worker process loads the export for its own cells; loading it here too would be wasted.
        yield* Console.log(`replay: every call from ${exported}`)
      } else {
        const store = yield* replaySnapshot(exported)
        yield* Console.log(`replay: ${yield* store.count} cached calls from ${exported}`)
      }
      cache = { path: exported, mode: "replay" }
    }
    yield* ensureCacheDirectory(cache)
    // A fresh checkout has the published export but not the SQLite file: seed the cache from it, so
    // reruns are served from it and the export written at the end stays a superset. A cache that
    // exists but does not hold all of the export (an import killed by an older build) is completed.
    if (!input.replay && cache.mode !== "off" && (yield* fs.exists(exported))) {
      if (!(yield* isImported(exported, cache.path))) {
        const counts = yield* importCache(exported, cache.path)
        if (counts.discarded > 0)
          yield* Console.log(`cache: removed ${counts.discarded} interrupted import(s) into ${cache.path}`)
        yield* Console.log(
          `cache: ${counts.inserted} calls loaded from ${exported}` +
            (counts.skipped > 0 ? ` (${counts.skipped} already in ${cache.path})` : "") +
            (counts.withheld > 0 ? `; ${counts.withheld} of them with the request withheld` : "")
        )
      }
    }
    yield* writeJson(`${out}/experiment.json`, config)

    const cells = planCells(config)
    const todo: Array<Cell> = []
    for (const cell of cells) if (input.replay || !(yield* isCellComplete(config, out, cell))) todo.push(cell)
    yield* Console.log(
      `${config.name}: ${cells.length} cells, ${cells.length - todo.length} already complete, ${todo.length} to run`
    )
    const startedAt = yield* Clock.currentTimeMillis
    const tty = process.stdout.isTTY === true
    const progress = yield* Ref.make({ done: 0, calls: 0, tokens: 0, hits: 0 })
    const jobs = Math.max(1, input.jobs)
    const workers = jobs > 1 && todo.length > 1 ? yield* cellWorkers(Math.min(jobs, todo.length)) : undefined
    const runOne = (cell: Cell) =>
      Effect.gen(function* () {
        const total = workers
          ? yield* workers.run(cell, cells.indexOf(cell), { config: input.config, out, cache })
          : yield* runCell(config, out, cell, cache)
        const t = total ? totalTally(total) : undefined
        const p = yield* Ref.updateAndGet(progress, (p) => ({
          done: p.done + 1,
          calls: p.calls + (t?.calls ?? 0),
          tokens: p.tokens + (t ? t.promptTokens + t.completionTokens : 0),
          hits: p.hits + (t?.cacheHits ?? 0)
        }))
        const elapsed = (yield* Clock.currentTimeMillis) - startedAt
        const eta = (elapsed / p.done) * (todo.length - p.done)
        const line =
          `[${p.done}/${todo.length}] ${cellLabel(cell)} done; calls ${p.calls}, tokens ${p.tokens}, ` +
          `cache hits ${p.calls ? ((100 * p.hits) / p.calls).toFixed(1) : "0.0"}%, elapsed ${formatDuration(elapsed)}, ETA ${formatDuration(eta)}`
        // On a terminal one status line is rewritten in place; in a log (not a TTY), one line per cell.
        yield* tty
          ? Effect.sync(() => process.stdout.write(`\r\x1b[2K${line}${p.done === todo.length ? "\n" : ""}`))
          : Console.log(line)
      })
    const concurrency = workers
      ? jobs
      : input.concurrency.pipe(Option.getOrElse(() => config.concurrency ?? 1))
    // Transfers read other cells' prompts, so they start only once every other cell is done.
    yield* Effect.forEach(
      todo.filter((c) => c.method.kind !== "transfer"),
      runOne,
      { concurrency }
    )
    yield* Effect.forEach(
      todo.filter((c) => c.method.kind === "transfer"),
      runOne,
      { concurrency }
    )
    if (todo.length > 0 && !input.replay && cache.mode !== "off" && cache.mode !== "replay") {
      // The export is what gets published beside the tables: it withholds protected questions.
      const { withhold, notes } = yield* withholdingFor(cache.path, config.dataDir, config.tasks)
      const counts = yield* exportCache(cache.path, exported, { withhold })
      yield* Console.log(
        [
          `cache: ${counts.written} calls exported to ${exported}`,
          ...describeWithholding(counts, notes)
        ].join("\n")
      )
    }
    const { files, leftOut } = yield* buildTables(config, out)
    yield* Console.log(`tables and plots:\n${files.map((f) => `  ${f}`).join("\n")}`)
    if (leftOut.cells.length > 0) yield* Console.error(describeLeftOut(leftOut, out))
  }, Effect.scoped)
).pipe(
  Command.withDescription(
    "Run an experiment (tasks x topologies x methods x seeds): skips finished cells, resumes interrupted ones, then writes tables, plots, manifests and the exported cache (requests quoting GPQA questions withheld)"
  ),
  Command.withExamples([
    { command: "maspo run results/sim-table.json", description: "The bundled simulator experiment" },
    {
      command:
        "mkdir -p /tmp/check && cp results/sim/cache.jsonl.gz /tmp/check/ && maspo run results/sim-table.json --replay --out /tmp/check",
      description: "Regenerate it from the committed cache, with no live call"
    }
  ])
)
