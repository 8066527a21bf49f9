import { afterAll, describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import {
  liveCallsReported,
  optimizeArgs,
  readJsonAs,
  replayMismatches,
  runName,
  runsOf,
  SummarySeeds,
  summarize,
  summaryText
} from "../../../scripts/acceptance.ts"
import { asReplayed } from "../../../scripts/replayedBudgets.ts"
import { runCli } from "./cliProcess.ts"

/**
 * results/sim/acceptance (scripts/sim-acceptance.ts) is replayable from what is committed: its
 * summary follows from the committed runs, and runs recomputed from the committed export with no
 * live call write the committed files.
 */

const root = fileURLToPath(new URL("../../..", import.meta.url))
const acceptance = join(root, "results/sim/acceptance")
const work = mkdtempSync(join(tmpdir(), "maspo-acceptance-replay-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const tally = fc.record({
  calls: fc.nat(),
  liveCalls: fc.nat(),
  cacheHits: fc.nat(),
  promptTokens: fc.nat(),
  completionTokens: fc.nat()
})
const budget = fc.record({ agent: tally, optimizer: tally, evaluator: tally })
const replayedTally = (t: { readonly calls: number }) => ({
  ...t,
  liveCalls: 0,
  cacheHits: t.calls
})

describe("asReplayed", () => {
  it("property: every budget record becomes 0 live calls and all hits, the rest of the text unchanged", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ step: fc.nat(), note: fc.string(), budget }), { maxLength: 4 }),
        fc.constantFrom(undefined, 2),
        (lines, indent) => {
          const expected = lines.map((l) => ({
            ...l,
            budget: {
              agent: replayedTally(l.budget.agent),
              optimizer: replayedTally(l.budget.optimizer),
              evaluator: replayedTally(l.budget.evaluator)
            }
          }))
          const text = lines.map((l) => JSON.stringify(l, null, indent)).join("\n")
          expect(asReplayed(text)).toBe(expected.map((l) => JSON.stringify(l, null, indent)).join("\n"))
          expect(asReplayed(asReplayed(text))).toBe(asReplayed(text))
        }
      )
    )
  })

  it("property: text without budget records is left as it is", () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        fc.pre(!text.includes('"liveCalls"'))
        expect(asReplayed(text)).toBe(text)
      })
    )
  })
})

describe("results/sim/acceptance", () => {
  const seeds = readJsonAs(SummarySeeds, join(acceptance, "summary.json")).seeds

  it("has its export committed, and its summary follows from its runs", () => {
    expect(existsSync(join(acceptance, "cache.jsonl.gz"))).toBe(true)
    expect(seeds.length).toBe(10)
    expect(summaryText(summarize(acceptance, seeds))).toBe(
      readFileSync(join(acceptance, "summary.json"), "utf8")
    )
  })

  // Both variants of the first seed: the full replay of all 20 runs takes about 90 s of CPU
  // (`npx tsx scripts/sim-acceptance.ts --replay --out DIR` checks every run and the summary).
  for (const [variant, seed] of runsOf(seeds.slice(0, 1)))
    it(`${runName(variant, seed)} replays from the committed export with no live call`, async () => {
      const name = runName(variant, seed)
      const out = join(work, name)
      const exported = join(acceptance, "cache.jsonl.gz")
      const r = await runCli(optimizeArgs(variant, seed, out, exported, "replay"), { cwd: root })
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      expect(liveCallsReported(r.stdout)).toEqual([0, 0])
      expect(replayMismatches(join(acceptance, name), out)).toEqual([])
    }, 300_000)
})
