/**
 * LLM calls per role of the maspo preset and of the paper preset (the released algorithm), each run
 * in full on the simulator's sequential system at defaults, over the same seeds, measured (no
 * derivation). Writes a small JSON (default results/calls/preset-calls.json).
 * Usage: npx tsx scripts/preset-calls.ts [--seeds N] [--out FILE]
 */
import { writeFileSync } from "node:fs"
import { maspoDefaults, paperDefaults } from "@maspo/core"
import { Effect } from "effect"
import { callsOf, type RoleCalls, runWorld, SIM_WORLD } from "../bench/callSaving.ts"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback
}
const seedCount = Number(arg("--seeds", "10"))
if (!Number.isSafeInteger(seedCount) || seedCount < 1) throw new Error(`--seeds: expected an integer >= 1`)
const out = arg("--out", "results/calls/preset-calls.json")
const seeds = Array.from({ length: seedCount }, (_, i) => i + 1)

const roles = ["agent", "optimizer", "evaluator"] as const
const sum = (xs: ReadonlyArray<RoleCalls>) =>
  Object.fromEntries(roles.map((r) => [r, xs.reduce((n, x) => n + x[r], 0)])) as unknown as RoleCalls

const program = Effect.gen(function* () {
  const perSeed: Array<{ seed: number; maspo: RoleCalls; paper: RoleCalls; paperFirstStep: RoleCalls }> = []
  for (const seed of seeds) {
    const maspo = yield* runWorld(SIM_WORLD, maspoDefaults, seed, true)
    const paper = yield* runWorld(SIM_WORLD, paperDefaults, seed, true)
    const first = paper.state.log[0]!.budget
    perSeed.push({
      seed,
      maspo: callsOf(maspo.state),
      paper: callsOf(paper.state),
      paperFirstStep: {
        agent: first.agent.calls,
        optimizer: first.optimizer.calls,
        evaluator: first.evaluator.calls
      }
    })
  }
  const maspo = sum(perSeed.map((s) => s.maspo))
  const paper = sum(perSeed.map((s) => s.paper))
  const mean = (c: RoleCalls) =>
    Object.fromEntries(roles.map((r) => [r, c[r] / seeds.length])) as unknown as RoleCalls
  return {
    what: "LLM calls per role of one full default optimization of the simulator's sequential system (arith), maspo preset vs paper preset, same seeds",
    seeds,
    meanPerRun: { maspo: mean(maspo), paper: mean(paper) },
    maspoPercentOfPaper: Object.fromEntries(
      roles.map((r) => [r, Math.round((1000 * maspo[r]) / paper[r]) / 10])
    ),
    perSeed
  }
})

const result = Effect.runSync(program)
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
console.log(
  JSON.stringify({ meanPerRun: result.meanPerRun, maspoPercentOfPaper: result.maspoPercentOfPaper })
)
