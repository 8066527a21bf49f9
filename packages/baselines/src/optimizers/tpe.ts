import { Effect, Option } from "effect"
import {
  agentNode,
  completedStep,
  isCapped,
  deriveSeed,
  descendants,
  type PromptSet,
  Refiner,
  SeededRng,
  type TaskItem,
  type Trace
} from "@maspo/core"
import {
  type BaselineCandidate,
  type BaselineInput,
  type BaselineResult,
  underCap,
  stepLogger
} from "./contract.ts"
import { globalPreferences, labelScores, rerunAgent, runSystem } from "./scoring.ts"
import {
  choiceKey,
  defaultTpeSamplerOptions,
  spaceSize,
  type TpeSamplerOptions,
  type TpeTrial,
  TpeSampler
} from "./tpeSampler.ts"

/**
 * TPE joint instruction selection, in the style of MIPRO / MASS: propose a few instructions per agent
 * once, then search the joint combinations with a Tree-structured Parzen Estimator.
 *
 * Stage 1 (proposals): for each agent in topological order, the seed system runs on a batch of
 * `proposalBatch` pool items and the Refiner proposes `candidatesPerAgent` prompts from that agent's
 * traces (one optimizer call each). The agent's options are [seed prompt, ...distinct proposals].
 * Each agent gets its own seeded batch; the seed system's traces are cached per item, so an item in
 * several batches (or in the evaluation set) runs once.
 *
 * Stage 2 (trials): every trial picks one option per agent and scores the joint prompt set on a FIXED
 * evaluation set of `evalItems` pool items, drawn once from the run seed. A fixed set makes the
 * objective stationary (what TPE assumes) and the values of different combinations paired on the same
 * items; the seed system runs on it once (its traces are cached per item). Trial 0 is the seed
 * combination (option 0 everywhere), the rest are TPE suggestions (the sampler prefers combinations
 * not tried yet, see `TpeSamplerOptions.avoidDuplicates`). A trial's value:
 * - label-free (default): the mean global pairwise preference of the combination's final outputs over
 *   the seed prompt set's final outputs (1 / 0.5 / 0 per item; the seed combination is 0.5 by
 *   construction and costs no judge call);
 * - supervised (`supervised: true`, uses `input.labeledPool`): the mean task score.
 * A combination that differs from the seed prompts only in one agent and its descendants re-runs from
 * that agent, reusing the seed run's upstream outputs; otherwise the whole system runs. A combination
 * suggested again is not re-evaluated: its value is reused (no calls).
 *
 * The result is the combination with the best mean value over its evaluated items; ties go to the one
 * evaluated on more items, then to the earlier trial (so the seed prompts win ties).
 *
 * Default schedule, no cap: 20 trials (including the seed trial). On a 2-agent topology that is about
 * 2 x 4 optimizer calls + at most ~2 x 40 agent calls for the proposal batches + 40 agent calls for
 * the seed on the evaluation set + per new combination at most 40 agent calls and 10 judge calls: at
 * most ~1,100 calls (822 on the simulator's sequential system, seed 5), a third to a half of MASPO's
 * defaults (raise `trials` or `evalItems` for an equal-cost run, or give a cap). With a cap, trials go
 * on until the cap is reached. Either way the run also ends (stoppedBy "schedule") when every
 * combination has been evaluated, or after `maxDuplicateStreak` suggestions in a row were
 * already-evaluated combinations.
 */

export interface TpeOptions {
  /** Prompts the Refiner is asked for per agent (one optimizer call each). */
  readonly candidatesPerAgent: number
  /** Pool items the seed system runs on to give the Refiner traces, per agent. */
  readonly proposalBatch: number
  /** Trials (the seed trial included) when there is no cap; with a cap, trials run until the cap. */
  readonly trials: number
  /** Size of the fixed evaluation set every combination is scored on. */
  readonly evalItems: number
  /** Score by the task's labels (`input.labeledPool`) instead of pairwise preferences. */
  readonly supervised: boolean
  /** Ask every global comparison in both orders (doubles the judge calls). */
  readonly debiasPosition: boolean
  /** Stop after this many consecutive suggestions of already-evaluated combinations. */
  readonly maxDuplicateStreak: number
  readonly sampler: TpeSamplerOptions
}

export const defaultTpeOptions: TpeOptions = {
  candidatesPerAgent: 4,
  proposalBatch: 10,
  trials: 20,
  evalItems: 10,
  supervised: false,
  debiasPosition: false,
  maxDuplicateStreak: 10,
  sampler: defaultTpeSamplerOptions
}

interface Evaluated {
  readonly trial: number
  readonly choice: ReadonlyArray<number>
  readonly prompts: PromptSet
  readonly scores: ReadonlyArray<number>
  readonly value: number
}

const mean = (xs: ReadonlyArray<number>) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length)

/** True when `a` beats `b`: higher mean, then more items (earlier trials win remaining ties). */
export const betterThan = (
  a: { readonly value: number; readonly items: number },
  b: { readonly value: number; readonly items: number }
): boolean => a.value > b.value || (a.value === b.value && a.items > b.items)

export const runTpe = Effect.fn("runTpe")(function* (
  input: BaselineInput,
  options: Partial<TpeOptions> = {}
) {
  const opts: TpeOptions = { ...defaultTpeOptions, ...options }
  const method = opts.supervised ? "tpe-supervised" : "tpe"
  const refiner = yield* Refiner
  const { topology, task, concurrency } = input
  const agentIds = topology.agentIds
  const logger = stepLogger(method)
  const seedSet: PromptSet = Object.fromEntries(
    agentIds.map((id) => [id, input.prompts[id] ?? agentNode(topology, id)!.prompt])
  )
  const full = (prompts: PromptSet): PromptSet => ({ ...input.prompts, ...prompts })
  const judge = { debiasPosition: opts.debiasPosition, seed: deriveSeed(input.seed, "tpe-judge") }

  let labeled: ReadonlyMap<string, TaskItem> = new Map()
  if (opts.supervised) {
    if (!input.labeledPool) return yield* Effect.die(new Error("supervised TPE needs input.labeledPool"))
    labeled = new Map(input.labeledPool.map((i) => [i.id, i]))
  }

  // The seed system's runs, per item: each item runs once for the whole search.
  const seedCache = new Map<string, Trace>()
  const seedTraces = (items: ReadonlyArray<TaskItem>) =>
    Effect.gen(function* () {
      const missing = [...new Map(items.filter((i) => !seedCache.has(i.id)).map((i) => [i.id, i])).values()]
      const runs = yield* runSystem(topology, seedSet, task, missing, concurrency)
      runs.forEach((t, k) => seedCache.set(missing[k]!.id, t))
      return items.map((i) => seedCache.get(i.id)!)
    })

  const finish = (prompts: PromptSet, stoppedBy: "schedule" | "budget"): BaselineResult => ({
    method,
    prompts: full(prompts),
    log: logger.log,
    stoppedBy
  })

  return yield* underCap(
    input.cap,
    Effect.gen(function* () {
      // Stage 1: proposals per agent from the seed system's traces.
      const proposalRng = new SeededRng(deriveSeed(input.seed, "tpe-proposals"))
      const choices: Array<Array<string>> = []
      for (const agentId of agentIds) {
        const node = agentNode(topology, agentId)!
        const batch = proposalRng.sample(input.pool, opts.proposalBatch)
        const proposed =
          opts.candidatesPerAgent <= 0
            ? Option.some({ proposals: [], rejected: [] })
            : yield* completedStep(
                Effect.gen(function* () {
                  return yield* refiner.propose({
                    agentId,
                    agentRole: node.role,
                    prompt: seedSet[agentId]!,
                    children: opts.candidatesPerAgent,
                    traces: (yield* seedTraces(batch)).map((t) => {
                      const a = t.agents.find((x) => x.agentId === agentId)!
                      return { question: t.question, context: a.context, output: a.rawOutput }
                    })
                  })
                })
              )
        // The cap cut the proposal stage short: no joint search was run, the seed prompts stand.
        if (Option.isNone(proposed)) return finish(seedSet, "budget")
        const outcome = proposed.value
        const list = [seedSet[agentId]!]
        for (const p of outcome.proposals) if (!list.includes(p.prompt)) list.push(p.prompt)
        choices.push(list)
        yield* logger.record({
          kind: "propose",
          agentId,
          candidates: [
            ...list.slice(1).map((prompt, k): BaselineCandidate => ({
              agentId,
              prompt,
              score: 0,
              accepted: true,
              note: `option ${k + 1}`
            })),
            ...outcome.rejected.map((r): BaselineCandidate => ({
              agentId,
              ...(r.prompt !== undefined ? { prompt: r.prompt } : {}),
              score: 0,
              accepted: false,
              note: r.reason
            }))
          ],
          best: seedSet
        })
      }

      // Stage 2: TPE over the joint combinations on the fixed evaluation set.
      const evalSet = new SeededRng(deriveSeed(input.seed, "tpe-eval")).sample(input.pool, opts.evalItems)
      const labeledEval = opts.supervised ? evalSet.map((i) => labeled.get(i.id)) : []
      if (labeledEval.some((i) => i === undefined)) {
        return yield* Effect.die(
          new Error("supervised TPE: an evaluation item is missing from input.labeledPool")
        )
      }
      const dims = choices.map((c) => c.length)
      const sampler = new TpeSampler(dims, opts.sampler)
      const samplerRng = new SeededRng(deriveSeed(input.seed, "tpe-sampler"))
      const promptsOf = (choice: ReadonlyArray<number>): PromptSet =>
        Object.fromEntries(agentIds.map((id, d) => [id, choices[d]![choice[d]!]!]))

      const evaluate = (choice: ReadonlyArray<number>) =>
        Effect.gen(function* () {
          const prompts = promptsOf(choice)
          const reference = yield* seedTraces(evalSet)
          const changed = agentIds.filter((id) => prompts[id] !== seedSet[id])
          let traces: ReadonlyArray<Trace> = reference
          if (changed.length > 0) {
            // agentIds are in topological order, so only the first changed agent can cover the others.
            const root = changed[0]!
            const stale = descendants(topology, root).add(root)
            traces = changed.every((id) => stale.has(id))
              ? yield* rerunAgent(topology, full(prompts), task, evalSet, reference, root, concurrency)
              : yield* runSystem(topology, full(prompts), task, evalSet, concurrency)
          }
          return opts.supervised
            ? yield* labelScores(task, labeledEval as ReadonlyArray<TaskItem>, traces)
            : yield* globalPreferences(evalSet, traces, reference, judge, concurrency)
        })

      const capped = isCapped(input.cap)
      const total = spaceSize(dims)
      const history: Array<TpeTrial> = []
      const evaluated = new Map<string, Evaluated>()
      let best: Evaluated | undefined
      let duplicateStreak = 0
      for (let trial = 0; ; trial++) {
        if (!capped && trial >= opts.trials) break
        if (evaluated.size >= total || duplicateStreak >= opts.maxDuplicateStreak) break
        const choice = trial === 0 ? dims.map(() => 0) : sampler.suggest(history, samplerRng)
        const key = choiceKey(choice)
        const known = evaluated.get(key)
        let current: Evaluated
        if (known) {
          current = known
          duplicateStreak++
        } else {
          const scored = yield* completedStep(evaluate(choice))
          // A trial the cap cut short is dropped; the best of the completed trials stands.
          if (Option.isNone(scored)) return finish(best?.prompts ?? seedSet, "budget")
          const scores = scored.value
          current = { trial, choice, prompts: promptsOf(choice), scores, value: mean(scores) }
          evaluated.set(key, current)
          duplicateStreak = 0
        }
        history.push({ choice, value: current.value })
        const improved =
          best === undefined ||
          betterThan(
            { value: current.value, items: current.scores.length },
            { value: best.value, items: best.scores.length }
          )
        if (improved) best = current
        yield* logger.record({
          kind: "trial",
          candidates: [
            {
              prompts: full(current.prompts),
              score: current.value,
              accepted: improved,
              note:
                `trial ${trial}: options [${choice.join(", ")}]` +
                (known
                  ? `, duplicate of trial ${known.trial} (value reused)`
                  : `, ${current.scores.length} items`)
            }
          ],
          best: full(best!.prompts)
        })
      }
      return finish(best?.prompts ?? seedSet, "schedule")
    })
  )
})
