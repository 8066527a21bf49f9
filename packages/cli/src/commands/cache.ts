import { cacheStats, exportCache, importCache } from "@maspo/core/cache"
import { Console, Effect, Option } from "effect"
import { dirname } from "node:path"
import { Argument, Command, Flag } from "effect/cli"
import { ensureCacheDirectory, ensureDirectory } from "../files.ts"
import { defaulted } from "../help.ts"
import { DEFAULT_CACHE_PATH } from "../providers.ts"
import { describeWithholding, withholdingFor } from "../publishing.ts"

const cacheFlag = defaulted(Flag.String("cache"), DEFAULT_CACHE_PATH, "Call cache file")

const exportCommand = Command.make(
  "export",
  {
    cache: cacheFlag,
    file: Argument.String("file").pipe(Argument.withDescription("Output .jsonl.gz file")),
    dataDir: Flag.String("data-dir").pipe(
      Flag.withDescription(
        "Where the protected datasets' files are (default: $MASPO_DATA_DIR, else ../shared/datasets), to find the requests quoting them"
      ),
      Flag.optional
    ),
    keepProtected: defaulted(
      Flag.Boolean("keep-protected"),
      false,
      "Write every request in full, protected questions (GPQA) included: a private copy, not for publishing"
    )
  },
  Effect.fn("maspo.cache.export")(function* (input) {
    // Made here: the export's own recursive mkdir never returns under /proc.
    yield* ensureDirectory(dirname(input.file), "export file")
    const { withhold, notes } = input.keepProtected
      ? { withhold: [], notes: ["--keep-protected: nothing withheld; this export is not for publishing"] }
      : yield* withholdingFor(input.cache, Option.getOrUndefined(input.dataDir))
    const counts = yield* exportCache(input.cache, input.file, { withhold })
    yield* Console.log(
      [
        `exported ${counts.written} cached calls from ${input.cache} to ${input.file}`,
        ...describeWithholding(counts, notes)
      ].join("\n")
    )
  })
).pipe(
  Command.withDescription(
    "Write a cache as gzip-compressed JSONL, sorted by key (the same content gives the same bytes), to publish beside results; requests quoting a protected dataset's questions (GPQA) are withheld, keeping their key and answer so the export still replays"
  )
)

const importCommand = Command.make(
  "import",
  { cache: cacheFlag, file: Argument.String("file").pipe(Argument.withDescription("A .jsonl.gz export")) },
  Effect.fn("maspo.cache.import")(function* (input) {
    yield* ensureCacheDirectory({ path: input.cache, mode: "read-write" })
    const counts = yield* importCache(input.file, input.cache)
    if (counts.discarded > 0)
      yield* Console.log(`removed ${counts.discarded} interrupted import(s) into ${input.cache}`)
    yield* Console.log(
      `read ${counts.read} entries from ${input.file}: ${counts.inserted} added to ${input.cache}, ${counts.skipped} already there` +
        (counts.withheld > 0
          ? `; ${counts.withheld} of them with the request withheld (accepted by key: the request cannot be re-checked)`
          : "")
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
    const stats = yield* cacheStats(input.cache)
    const withheld = Object.entries(stats.withheld)
    yield* Console.log(
      [
        `${input.cache}: ${stats.entries} cached calls`,
        ...(withheld.length > 0
          ? [`  with the request withheld (imported so): ${withheld.map(([d, n]) => `${d} ${n}`).join(", ")}`]
          : []),
        ...(stats.datasets.length > 0 ? [`  calls recorded about: ${stats.datasets.join(", ")}`] : [])
      ].join("\n")
    )
  })
).pipe(
  Command.withDescription(
    "Count the entries of a cache, those imported with their request withheld, and the datasets runs recorded calls about"
  )
)

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
