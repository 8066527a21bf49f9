/**
 * Call efficiency of the optimizer on the sequential MAS: LLM calls per role of one step and one full
 * run with and without the judge's call-saving rules, next to the released algorithm's calls measured
 * by running the paper preset on the same seeds (simulator), 20 seeds each.
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
  const out = [
    figure(g, `${label}: same decisions with/without saving`, r.sameDecisions, `of ${n} runs`),
    figure(
      g,
      `${label}: first step agent/optimizer/evaluator`,
      r.firstStep.evaluator,
      "evaluator calls",
      `agent ${r.firstStep.agent}, optimizer ${r.firstStep.optimizer}` +
        (r.referenceFirstStep
          ? `; paper preset ${r.referenceFirstStep.agent}/${r.referenceFirstStep.optimizer}/${r.referenceFirstStep.evaluator}`
          : "")
    ),
    figure(g, `${label}: run, evaluator calls with saving`, per(r.withSaving.evaluator), "calls/run"),
    figure(g, `${label}: run, evaluator calls without saving`, per(r.withoutSaving.evaluator), "calls/run"),
    figure(
      g,
      `${label}: judge calls saved (memo / identical)`,
      per(r.saved.memo + r.saved.identical),
      "calls/run",
      `memo ${per(r.saved.memo)}, identical ${per(r.saved.identical)}`
    )
  ]
  const ref = r.reference
  if (ref)
    for (const role of ["agent", "optimizer", "evaluator"] as const)
      out.push(
        figure(
          g,
          `${label}: ${role} calls / paper preset's`,
          (100 * r.withSaving[role]) / ref[role],
          "%",
          `${per(r.withSaving[role])} vs ${per(ref[role])} per run (measured, same seeds)`
        )
      )
  return out
}

export const callBenchmarks = async (): Promise<Array<Figure>> => {
  const cases = [
    ["sim, maspo preset", compareSaving(SIM_WORLD, "maspo", maspoDefaults, SEEDS)],
    [
      "sim, paper preset with the judge memo",
      compareSaving(SIM_WORLD, "paper", { ...paperDefaults, judgeMemo: true }, SEEDS)
    ],
    ["scripted, maspo preset", compareSaving(SCRIPTED_WORLD, "maspo", maspoDefaults, SEEDS)]
  ] as const
  const figures: Array<Figure> = []
  for (const [label, run] of cases) {
    const r = await Effect.runPromise(run)
    log(
      `calls: ${label}: ${r.sameDecisions}/${r.seeds.length} same decisions, evaluator ${r.withSaving.evaluator}` +
        (r.reference ? ` vs paper preset ${r.reference.evaluator}` : "")
    )
    figures.push(...figuresOf(label, r))
  }
  return figures
}
