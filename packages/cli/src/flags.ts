import { Flag } from "effect/cli"

/** Flags shared by several commands; each command states its own defaults in its help text. */
export const seedFlag = Flag.Int("seed").pipe(
  Flag.withDescription("Run seed: every random choice derives from it"),
  Flag.optional
)
export const taskFlag = Flag.String("task").pipe(
  Flag.withDescription("Task name (e.g. arith, math500, aqua)"),
  Flag.optional
)
export const masFlag = Flag.String("mas").pipe(
  Flag.withDescription("Multi-agent topology (e.g. sequential, hierarchical)"),
  Flag.optional
)
export const configFlag = Flag.File("config").pipe(
  Flag.withDescription("Run config JSON file; command-line flags override its fields"),
  Flag.optional
)
export const concurrencyFlag = Flag.Int("concurrency").pipe(
  Flag.withDescription("Questions run at the same time (default 8)"),
  Flag.optional
)
export const outFlag = Flag.String("out").pipe(Flag.withDescription("Output directory"), Flag.optional)
