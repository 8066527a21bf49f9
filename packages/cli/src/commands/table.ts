import { Console, Effect, Option, Schema } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { ExperimentConfig } from "../experiment/config.ts"
import { buildTables, describeLeftOut } from "../experiment/tables.ts"
import { problemsError } from "../configProblems.ts"
import { defaultWhen } from "../help.ts"
import { readJsonAs, readJsonLocated } from "../output.ts"
import { paperProblems } from "./run.ts"

export const tableCommand = Command.make(
  "table",
  {
    dir: Argument.String("dir").pipe(
      Argument.withDescription("An experiment's output directory (holds experiment.json)")
    ),
    paper: Flag.File("paper").pipe(
      Flag.withDescription(
        defaultWhen(
          "JSON of published numbers (method -> task -> accuracy in percent) shown in a (paper) column beside ours",
          "the config's `paper` numbers, if any"
        )
      ),
      Flag.optional
    )
  },
  Effect.fn("maspo.table")(function* (input) {
    const saved = yield* readJsonAs(ExperimentConfig)(`${input.dir}/experiment.json`)
    let config = saved
    if (Option.isSome(input.paper)) {
      const { value: paper, where } = yield* readJsonLocated(
        Schema.Record(Schema.String, Schema.Record(Schema.String, Schema.Number))
      )(input.paper.value)
      const problems = paperProblems(paper, saved, [])
      if (problems.length > 0) return yield* problemsError(problems, where)
      config = { ...saved, paper }
    }
    const { files, leftOut } = yield* buildTables(config, input.dir)
    yield* Console.log(files.join("\n"))
    if (leftOut.cells.length > 0) yield* Console.error(describeLeftOut(leftOut, input.dir))
  })
).pipe(
  Command.withDescription(
    "Build result tables (Markdown, CSV, JSON, LaTeX: accuracy per task and average with 95% CIs over seeds, paired tests against the unoptimized MAS and the best baseline, costs per role; ablations) and SVG plots from an experiment's finished cells"
  ),
  Command.withExamples([
    { command: "maspo table results/sim", description: "Rebuild the simulator experiment's tables" },
    {
      command: "maspo table --paper paper.json results/paper-table1",
      description: "With the published numbers"
    }
  ])
)
