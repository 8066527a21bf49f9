import { InputError } from "@maspo/core"
import { cacheStats, type ExportCounts, type ProtectedTexts } from "@maspo/core/cache"
import { PROTECTED_DATASETS, protectedTexts, resolveDataDir } from "@maspo/benchmarks"
import { Effect } from "effect"

/**
 * What an export for publishing withholds: the questions of every dataset that must not be
 * republished (GPQA), whichever run or role put them into the cache. A protected dataset that runs
 * recorded in the cache (or that the caller says it used) must be readable, or the export fails: it
 * cannot be checked. One nobody recorded is withheld when its file is at hand, and otherwise named
 * in a note (a cache filled by a build that did not record datasets could still quote it).
 */
export const withholdingFor = Effect.fn("withholdingFor")(function* (
  cachePath: string,
  dataDir: string | undefined,
  used: ReadonlyArray<string> = []
) {
  const recorded = (yield* cacheStats(cachePath)).datasets
  const withhold: Array<ProtectedTexts> = []
  const notes: Array<string> = []
  for (const name of PROTECTED_DATASETS) {
    const texts = yield* protectedTexts(name, dataDir).pipe(Effect.result)
    if (texts._tag === "Success") {
      withhold.push(texts.success)
      continue
    }
    const why = texts.failure.message
    if (recorded.includes(name) || used.includes(name))
      return yield* new InputError({
        source: cachePath,
        message:
          `the cache holds calls about ${name}, whose questions must be withheld from a published export, ` +
          `but they cannot be read (${why}); pass --data-dir, or --keep-protected for a private copy`
      })
    notes.push(
      `${name}: nothing withheld (no run recorded ${name} calls in this cache and its file cannot be read from ${resolveDataDir(dataDir)})`
    )
  }
  return { withhold, notes }
})

const byDataset = (counts: Readonly<Record<string, number>>) =>
  Object.entries(counts)
    .map(([d, n]) => `${d} ${n}`)
    .join(", ")

/** The lines that say what an export withheld, and what it could not. */
export const describeWithholding = (counts: ExportCounts, notes: ReadonlyArray<string>): Array<string> => {
  const lines: Array<string> = []
  const withheld = Object.values(counts.withheld).reduce((a, b) => a + b, 0)
  if (withheld > 0)
    lines.push(
      `  withheld the request of ${withheld} entries quoting protected text (${byDataset(counts.withheld)})`
    )
  const quoting = Object.values(counts.quotingAnswers).reduce((a, b) => a + b, 0)
  if (quoting > 0)
    lines.push(
      `  note: ${quoting} answers quote protected text (${byDataset(counts.quotingAnswers)}) and are published as they are (a replay needs them)`
    )
  for (const n of notes) lines.push(`  note: ${n}`)
  return lines
}
