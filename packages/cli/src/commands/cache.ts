import { exportCache, importCache, openCallStore } from "@maspo/core/cache"
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { DEFAULT_CACHE_PATH } from "../providers.ts"

const cacheFlag = Flag.String("cache").pipe(
  Flag.withDescription(`Call cache file (default ${DEFAULT_CACHE_PATH})`),
  Flag.withDefault(DEFAULT_CACHE_PATH)
)

const exportCommand = Command.make(
  "export",
  { cache: cacheFlag, file: Argument.String("file").pipe(Argument.withDescription("Output .jsonl.gz file")) },
  Effect.fn("maspo.cache.export")(function* (input) {
    const { written } = yield* exportCache(input.cache, input.file)
    yield* Console.log(`exported ${written} cached calls from ${input.cache} to ${input.file}`)
  })
).pipe(
  Command.withDescription(
    "Write a cache as gzip-compressed JSONL, sorted by key (the same content gives the same bytes), to publish beside results"
  )
)

const importCommand = Command.make(
  "import",
  { cache: cacheFlag, file: Argument.String("file").pipe(Argument.withDescription("A .jsonl.gz export")) },
  Effect.fn("maspo.cache.import")(function* (input) {
    const counts = yield* importCache(input.file, input.cache)
    if (counts.discarded > 0)
      yield* Console.log(`removed ${counts.discarded} interrupted import(s) into ${input.cache}`)
    yield* Console.log(
      `read ${counts.read} entries from ${input.file}: ${counts.inserted} added to ${input.cache}, ${counts.skipped} already there`
    )
  })
).pipe(
  Command.withDescription(
    "Add a published export to a cache; every line is checked (schema, and its key must hash its request) before anything is written"
  )
)

const statsCommand = Command.make(
  "stats",
  { cache: cacheFlag },
  Effect.fn("maspo.cache.stats")(function* (input) {
    const store = yield* openCallStore(input.cache, { mustExist: true })
    const n = yield* store.count
    yield* store.close
    yield* Console.log(`${input.cache}: ${n} cached calls`)
  })
).pipe(Command.withDescription("Count the entries of a cache"))

export const cacheCommand = Command.make("cache").pipe(
  Command.withDescription("Export, import and inspect the LLM call cache"),
  Command.withSubcommands([exportCommand, importCommand, statsCommand]),
  Command.withExamples([
    { command: "maspo cache export results/run1/calls.jsonl.gz", description: "Publish a run's cache" },
    {
      command: "maspo cache import calls.jsonl.gz --cache replay.sqlite",
      description: "Replay someone's run"
    }
  ])
)
