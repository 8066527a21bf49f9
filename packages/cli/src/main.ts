import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { VERSION } from "@maspo/core"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { evalCommand } from "./commands/eval.ts"
import { optimizeCommand } from "./commands/optimize.ts"
import { serveCommand } from "./commands/serve.ts"
import { cacheCommand } from "./commands/cache.ts"
import { runCommand } from "./commands/run.ts"
import { tableCommand } from "./commands/table.ts"
import { reportErrors } from "./errors.ts"
import { CELL_WORKER_ENV, serveCells } from "./experiment/cellWorkers.ts"

const maspo = Command.make("maspo").pipe(
  Command.withDescription("Joint prompt optimization for LLM multi-agent systems (MASPO), measured honestly"),
  Command.withSubcommands([
    evalCommand,
    optimizeCommand,
    runCommand,
    tableCommand,
    serveCommand,
    cacheCommand
  ])
)

if (process.env[CELL_WORKER_ENV] === "1") {
  // A worker process of `maspo run --jobs N`: runs the cells its parent sends.
  await serveCells()
} else {
  maspo.pipe(
    Command.run({ version: VERSION }),
    reportErrors,
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain
  )
}
