/**
 * Runs `maspo optimize <args>` inside this process (the CLI's own command, no child process) and prints
 * one line `BENCH_RESULT {"wallMs": ..., "maxRssKiB": ...}`: the command's wall time without process
 * start-up and module loading, and the process's peak RSS.
 */
import { NodeServices } from "@effect/platform-node"
import { VERSION } from "@maspo/core"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { optimizeCommand } from "../packages/cli/src/commands/optimize.ts"

const args = process.argv.slice(2)
const start = performance.now()
await Effect.runPromise(
  Command.runWith(optimizeCommand, { version: VERSION })(args).pipe(Effect.provide(NodeServices.layer))
)
const wallMs = performance.now() - start
process.stdout.write(
  `BENCH_RESULT ${JSON.stringify({ wallMs, maxRssKiB: process.resourceUsage().maxRSS })}\n`
)
