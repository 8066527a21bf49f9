import { formatBudget, formatPercent, NonNegativeInt, PromptSet } from "@maspo/core"
import { Console, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import {
  concurrencyFlag,
  dataFlags,
  providerFlags,
  configFlag,
  masFlag,
  seedFlag,
  taskFlag
} from "../flags.ts"
import { checkFlags } from "../configProblems.ts"
import { ensureCacheDirectory, ensureWritableDirectory } from "../files.ts"
import { cacheSettings } from "../providers.ts"
import { defaulted, defaultNote } from "../help.ts"
import { readJsonAs, writeJson, writeJsonl } from "../output.ts"
import { evaluateFixed } from "../fixedEvaluation.ts"
import { describeSplit } from "../registry.ts"
import { resolveRunConfig } from "../runConfig.ts"

/** Where `maspo eval` writes when --out is not given. */
const defaultEvalOut = (task: string, mas: string, seed: string) =>
  `.maspo/runs/eval-${task}-${mas}-seed${seed}`

const flags = {
  config: configFlag,
  task: taskFlag,
  mas: masFlag,
  seed: seedFlag,
  n: Flag.Int("n").pipe(
    Flag.withDescription("Test items: the first N >= 1 held-out items, all of them if fewer (default: all)"),
    Flag.optional
  ),
  concurrency: concurrencyFlag,
  ...providerFlags,
  ...dataFlags,
  prompts: Flag.File("prompts").pipe(
    Flag.withDescription(
      "PromptSet JSON (agent id -> prompt); agents not listed keep their seed prompt (default: the topology's seed prompts)"
    ),
    Flag.optional
  ),
  refineRounds: defaulted(
    Flag.Int("refine-rounds"),
    2,
    "Critique-and-revise rounds of --mas self-refine (it stops early at NO ISSUES)"
  ),
  out: Flag.String("out").pipe(
    Flag.withDescription(defaultNote("Output directory", defaultEvalOut("<task>", "<mas>", "<seed>"))),
    Flag.optional
  )
}

export const evalCommand = Command.make(
  "eval",
  flags,
  Effect.fn("maspo.eval")(function* (input) {
    yield* checkFlags([["--refine-rounds", NonNegativeInt, input.refineRounds]])
    const config = yield* resolveRunConfig(input)
    const out = Option.getOrElse(input.out, () =>
      defaultEvalOut(config.task, config.topology, String(config.seed))
    )

    // Before any call: an output folder that cannot be written fails before anything is paid for.
    yield* ensureWritableDirectory(out, "--out")
    yield* ensureCacheDirectory(cacheSettings(config))
    const {
      entry,
      items,
      prompts,
      result: r,
      budget
    } = yield* evaluateFixed(config, {
      system: config.topology,
      testN: config.testSize,
      refineRounds: input.refineRounds,
      promptsOf: (seeds) =>
        Option.isSome(input.prompts)
          ? readJsonAs(PromptSet, { flag: "--prompts" })(input.prompts.value)
          : Effect.succeed(seeds),
      promptsSource: Option.getOrElse(input.prompts, () => "seed prompts")
    })
    yield* writeJsonl(
      `${out}/traces.jsonl`,
      r.scored.map((s) => ({ ...s.trace, score: s.score }))
    )
    yield* writeJson(`${out}/summary.json`, {
      task: config.task,
      topology: config.topology,
      seed: config.seed,
      items: r.n,
      correct: r.correct,
      accuracy: r.accuracy,
      ci95: r.ci95,
      split: { ...entry.split, testIds: items.map((i) => i.id) },
      prompts,
      budget
    })
    yield* Console.log(
      `${config.task} / ${config.topology}: accuracy ${formatPercent(r.accuracy)} (${r.correct}/${r.n}), ` +
        `95% CI [${formatPercent(r.ci95.low)}, ${formatPercent(r.ci95.high)}] (Wilson)`
    )
    yield* Console.log(describeSplit(entry.split, items.length))
    yield* Console.log(formatBudget(budget))
    yield* Console.log(`traces: ${out}/traces.jsonl\nsummary: ${out}/summary.json`)
  })
).pipe(
  Command.withDescription("Evaluate a multi-agent system with a prompt set on a task's held-out test items"),
  Command.withExamples([
    {
      command: "maspo eval --task arith --mas sequential --n 100",
      description: "Seed prompts on the simulator"
    },
    {
      command: "maspo eval --task math500 --mas self-consistency --n 50",
      description: "A single-agent baseline"
    },
    { command: "maspo eval --task arith --prompts best.json", description: "Evaluate an optimized PromptSet" }
  ])
)
