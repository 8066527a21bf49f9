import type { DirectiveId } from "./directives.ts"

/**
 * The simulator's hidden model: how directives change probabilities. The behaviour (agent.ts) draws
 * from these probabilities and the analytic evaluator (analytic.ts) takes their expectation, so the
 * two agree by construction; a test checks that they do.
 */

export interface SimParams {
  /** P(the judge prefers the correct output when exactly one of the two is correct). */
  readonly judgeAccuracy: number
  /** On a tie, P(the judge answers "A" whatever the outputs). */
  readonly positionBias: number
  /** On a tie between a bare answer and a worked output, P(preferring the bare one) - 0.5. */
  readonly brevityBias: number
  /** P(an output without answer tags ends with a stray number that extraction picks up). */
  readonly strayNumberRate: number
  /** P(a reviewer that detected an error computes the right value). */
  readonly fixRate: number
  /** P(a reviewer detects a wrong answer when no intermediate values are visible). */
  readonly blindDetectRate: number
  /** Optimizer: P(adding a random catalogue directive) and P(dropping a present one). */
  readonly optimizerNoise: number
  readonly optimizerDrop: number
  /** Optimizer: weight of the "outputs are long, make them terse" lure. */
  readonly lureWeight: number
}

export const defaultSimParams: SimParams = {
  judgeAccuracy: 0.85,
  positionBias: 0.1,
  brevityBias: 0.1,
  strayNumberRate: 0.2,
  fixRate: 0.9,
  blindDetectRate: 0.05,
  optimizerNoise: 0.2,
  optimizerDrop: 0.1,
  lureWeight: 0.8
}

/** Who an agent is, read from its prompt's wording; sets its ability and keeps its random draws apart. */
export type Persona = "solver" | "math" | "science" | "code" | "generic" | "reviewer" | "summarizer"

export const personaOf = (instructions: string): Persona => {
  const t = instructions.toLowerCase()
  if (/\blead a team\b|\bsummari[sz]/.test(t)) return "summarizer"
  if (/\breview/.test(t)) return "reviewer"
  if (/\bsolver\b/.test(t)) return "solver"
  if (/\bmathematic|\bmath\b/.test(t)) return "math"
  if (/\bscience|\bsciences\b/.test(t)) return "science"
  if (/\bprogramming\b|\bcode\b/.test(t)) return "code"
  return "generic"
}

/** Base logit of a solving persona (before difficulty and directives). */
export const ABILITY: Readonly<Record<Persona, number>> = {
  solver: 1.0,
  math: 1.0,
  science: 0.2,
  code: 0.5,
  generic: 0.7,
  reviewer: 0.7,
  summarizer: 0.7
}

/** Distinct digits per persona: wrong values and stray numbers never coincide across agents. */
export const PERSONA_INDEX: Readonly<Record<Persona, number>> = {
  solver: 1,
  math: 2,
  science: 3,
  code: 4,
  generic: 5,
  reviewer: 6,
  summarizer: 7
}

export const DIFFICULTY_SLOPE = 0.45

const SOLVER_WEIGHTS: Partial<Record<DirectiveId, number>> = {
  step_by_step: 0.8,
  check_steps: 0.6,
  read_carefully: 0.3,
  order_of_operations: 0.2,
  quick: -1.0
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x))

const has = (ds: ReadonlySet<DirectiveId>, id: DirectiveId): number => (ds.has(id) ? 1 : 0)

/** P(a solving agent's internal answer is right). */
export const solveProb = (persona: Persona, ds: ReadonlySet<DirectiveId>, difficulty: number): number => {
  let x = ABILITY[persona] - DIFFICULTY_SLOPE * (difficulty - 2)
  for (const d of ds) x += SOLVER_WEIGHTS[d] ?? 0
  return sigmoid(x)
}

/** Whether the output and its compression show intermediate values (what a successor can verify). */
export const showsValues = (ds: ReadonlySet<DirectiveId>): boolean =>
  ds.has("state_intermediate") && !ds.has("final_only")

export const isBare = (ds: ReadonlySet<DirectiveId>): boolean => ds.has("final_only")

/** P(a reviewer detects that the answer it was given is wrong). */
export const detectProb = (ds: ReadonlySet<DirectiveId>, valuesVisible: boolean, p: SimParams): number =>
  valuesVisible
    ? sigmoid(0 + 1.5 * has(ds, "recompute") + 0.5 * has(ds, "check_steps") - 1.0 * has(ds, "quick"))
    : p.blindDetectRate

/** P(a reviewer changes an answer that was right). */
export const falseChangeProb = (ds: ReadonlySet<DirectiveId>, allBare: boolean): number =>
  sigmoid(
    -2.2 +
      1.4 * (allBare ? 1 : 0) -
      1.5 * has(ds, "change_only_if_error") +
      2.0 * has(ds, "always_improve") +
      0.5 * has(ds, "quick")
  )

/** P(the extracted answer equals what the agent meant). */
export const extractionProb = (ds: ReadonlySet<DirectiveId>, p: SimParams): number =>
  ds.has("answer_tags") ? 1 : 1 - p.strayNumberRate

/** A view of one upstream output as a reviewer reads it from its context. */
export interface Proposal {
  readonly answer: string | undefined
  readonly values: ReadonlyArray<number> | undefined
  readonly bare: boolean
}

/** The answer a reviewer starts from: the most frequent proposal; ties go to the earliest. */
export const majorityAnswer = (proposals: ReadonlyArray<Proposal>): string | undefined => {
  const counts = new Map<string, number>()
  for (const p of proposals) if (p.answer !== undefined) counts.set(p.answer, (counts.get(p.answer) ?? 0) + 1)
  let best: string | undefined
  let bestCount = 0
  for (const p of proposals) {
    if (p.answer === undefined) continue
    const c = counts.get(p.answer)!
    if (c > bestCount) {
      best = p.answer
      bestCount = c
    }
  }
  return best
}
