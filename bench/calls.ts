/**
 * Call efficiency of the optimizer on the sequential MAS: LLM calls per role of one step and one full
 * run with and without the judge's call-saving rules, next to the paper's implementation's count
 * (`referenceCallCount`), on the simulator and on the scripted world, 20 seeds each.
 */
import { maspoDefaults, paperDefaults } from "@maspo/core"
import { Effect } from "effect"
import { compareSaving, SCRIPTED_WORLD, type SavingComparison, SIM_WORLD } from "./callSaving.ts"
import { type Figure, figure, log } from "./util.ts"

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1)

const figuresOf = (label: string, r: SavingComparison): Array<Figure> => {
  const n = r.seeds.length
  const per = (x: number) => x / n
  const g = "calls"
  return [
    figure(g, `${label}: same decisions with/without saving`, r.sameDecisions, `of ${n} runs`),
    figure(
      g,
      `${label}: first step agent/optimizer/evaluator`,
      r.firstStep.evaluator,
      "evaluator calls",
      `agent ${r.firstStep.agent}, optimizer ${r.firstStep.optimizer}; reference ${r.referenceFirstStep.agent}/${r.referenceFirstStep.optimizer}/${r.referenceFirstStep.evaluator}`
    ),
    figure(g, `${label}: run, evaluator calls with saving`, per(r.withSaving.evaluator), "calls/run"),
    figure(g, `${label}: run, evaluator calls without saving`, per(r.withoutSaving.evaluator), "calls/run"),
    figure(g, `${label}: run, reference evaluator calls`, per(r.reference.evaluator), "calls/run"),
    figure(
      g,
      `${label}: evaluator calls / reference`,
      (100 * r.withSaving.evaluator) / r.reference.evaluator,
      "%",
      "target <= 60"
    ),
    figure(
      g,
      `${label}: agent calls / reference`,
      (100 * r.withSaving.agent) / r.reference.agent,
      "%",
      `${per(r.withSaving.agent)} vs ${per(r.reference.agent)} per run`
    ),
    figure(
      g,
      `${label}: optimizer calls / reference`,
      (100 * r.withSaving.optimizer) / r.reference.optimizer,
      "%",
      `${per(r.withSaving.optimizer)} vs ${per(r.reference.optimizer)} per run`
    ),
    figure(
      g,
      `${label}: judge calls saved (memo / identical)`,
      per(r.saved.memo + r.saved.identical),
      "calls/run",
      `memo ${per(r.saved.memo)}, identical ${per(r.saved.identical)}`
    )
  ]
}

export const callBenchmarks = async (): Promise<Array<Figure>> => {
  const cases = [
    ["sim, maspo preset", compareSaving(SIM_WORLD, "maspo", maspoDefaults, SEEDS)],
    [
      "sim, paper preset, memo only",
      compareSaving(SIM_WORLD, "paper", paperDefaults, SEEDS, { skipIdentical: false, memoize: true })
    ],
    ["sim, paper preset, both rules", compareSaving(SIM_WORLD, "paper", paperDefaults, SEEDS)],
    ["scripted, maspo preset", compareSaving(SCRIPTED_WORLD, "maspo", maspoDefaults, SEEDS)],
    ["scripted, paper preset", compareSaving(SCRIPTED_WORLD, "paper", paperDefaults, SEEDS)]
  ] as const
  const figures: Array<Figure> = []
  for (const [label, run] of cases) {
    const r = await Effect.runPromise(run)
    log(
      `calls: ${label}: ${r.sameDecisions}/${r.seeds.length} same decisions, evaluator ${r.withSaving.evaluator} vs reference ${r.reference.evaluator}`
    )
    figures.push(...figuresOf(label, r))
  }
  return figures
}
