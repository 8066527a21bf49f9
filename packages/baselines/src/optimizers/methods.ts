import type { Effect } from "effect"
import type {
  Budget,
  InputError,
  LanguageModel,
  LanguageModelError,
  MasExecutor,
  PairwiseJudge,
  Refiner
} from "@maspo/core"
import { isCapped } from "@maspo/core"
import type { BaselineInput, BaselineResult } from "./contract.ts"
import { defaultApeOptions, runApe } from "./ape.ts"
import { runGepa } from "./gepa.ts"
import { defaultSpoOptions, runSpo } from "./spo.ts"
import { runTpe } from "./tpe.ts"

/** Settings the CLI passes to every comparison optimizer (each keeps its own defaults otherwise). */
export interface ComparisonSettings {
  /** Score with the task metric on the labeled pool (methods with a supervised variant). */
  readonly supervised: boolean
  readonly debiasPosition: boolean
}

export type ComparisonRunner = (
  input: BaselineInput,
  settings: ComparisonSettings
) => Effect.Effect<
  BaselineResult,
  LanguageModelError | InputError,
  LanguageModel | Budget | MasExecutor | Refiner | PairwiseJudge
>

/** The comparison optimizers by CLI name. */
export const COMPARISON_METHODS = {
  spo: (input, s) => runSpo(input, { ...defaultSpoOptions, debiasPosition: s.debiasPosition }),
  ape: (input, s) => runApe(input, { ...defaultApeOptions, debiasPosition: s.debiasPosition }),
  tpe: (input, s) => runTpe(input, { supervised: s.supervised, debiasPosition: s.debiasPosition }),
  // GEPA is budgeted by metric calls: 600 costs about MASPO's default; under a cap the cap decides.
  gepa: (input, s) =>
    runGepa(input, {
      supervised: s.supervised,
      debiasPosition: s.debiasPosition,
      maxMetricCalls: isCapped(input.cap) ? 1_000_000 : 600
    })
} satisfies Record<string, ComparisonRunner>

export type ComparisonMethod = keyof typeof COMPARISON_METHODS
