import { Effect, Option } from "effect"
import {
  agentNode,
  type BudgetExhausted,
  completedStep,
  deriveSeed,
  type PromptSet,
  Refiner,
  SeededRng,
  type Trace
} from "@maspo/core"
import {
  type BaselineCandidate,
  type BaselineInput,
  type BaselineResult,
  underCap,
  stepLogger
} from "./contract.ts"
import { localPreferences, rerunAgent, runSystem } from "./scoring.ts"
import { meanPreference, refineTraces } from "./spo.ts"

/**
 * APE/OPRO-style per-agent optimizer: each agent is optimized in isolation, in topological order
 * (later agents are optimized with the earlier agents' chosen prompts in place).
 *
 * For agent A: a fixed evaluation batch (`evalBatchSize` items drawn with a seeded RNG per agent) is
 * run once with the current prompts; those outputs are the reference, and the current (seed) prompt
 * scores 0.5 by definition. Generation 0 is the current prompt plus `candidates` Refiner proposals
 * made from the reference traces. A candidate's score is the mean local preference (label-free
 * pairwise judge, A's output only) of its outputs over the reference's on the evaluation batch. The
 * `topK` best are kept; each of `iterations` OPRO-like iterations asks the Refiner for
 * `proposalsPerTop` new prompts from each kept prompt's traces on the evaluation batch, scores the new
 * ones, and keeps the top-k again. A gets the best-scored prompt (ties: the earlier scored, so the
 * seed stays unless something beats it). A proposal identical to a prompt already scored is not
 * scored again. In the iterations the Refiner reads the kept prompt's traces in a fresh seeded order:
 * a deterministic LLM (the simulator, or any model behind the call cache) would otherwise answer a
 * repeated request with the same, already scored, prompt whenever the top-k did not change.
 *
 * Cost on a two-agent chain with a batch of 10 and the defaults: per agent one system run (40
 * calls), then 4 + 3 x 8 = 28 candidates, each a re-run of A and its descendants (40 calls for the
 * first agent, 20 for the last) plus 10 comparisons (20 calls debiased), and 4 + 3 x 8 optimizer
 * calls: at most about 2,900 calls in all, like MASPO's defaults (on the simulator's sequential
 * system about 1,800, since duplicate proposals are not scored and identical outputs are ties
 * without a judge call). The Refiner sees no score history (the simulator's optimizer understands
 * only MASPO's refine request), so "OPRO-like" means iterated proposals from the best prompts so far.
 */

export interface ApeOptions {
  /** Items in each agent's fixed evaluation batch. Default 10. */
  readonly evalBatchSize: number
  /** Refiner proposals in generation 0. Default 4. */
  readonly candidates: number
  /** Prompts kept after each generation (the seed competes). Default 2. */
  readonly topK: number
  /** OPRO-like iterations after generation 0. Default 3. */
  readonly iterations: number
  /** Refiner proposals per kept prompt in each iteration. Default 4. */
  readonly proposalsPerTop: number
  /** Ask every comparison in both orders (a win needs both). Default true. */
  readonly debiasPosition: boolean
}

export const defaultApeOptions: ApeOptions = {
  evalBatchSize: 10,
  candidates: 4,
  topK: 2,
  iterations: 3,
  proposalsPerTop: 4,
  debiasPosition: true
}

export const APE_METHOD = "ape"

/** A scored prompt; `order` is when it was scored (the seed is 0). */
export interface ScoredPrompt {
  readonly prompt: string
  readonly score: number
  readonly order: number
}

/** The k best by score; ties go to the earlier scored. Does not reorder its input. */
export const selectTopK = <A extends ScoredPrompt>(scored: ReadonlyArray<A>, k: number): Array<A> =>
  scored
    .slice()
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .slice(0, Math.max(0, k))

/** The best scored prompt (ties: the earlier scored), or undefined for an empty list. */
export const bestScored = <A extends ScoredPrompt>(scored: ReadonlyArray<A>): A | undefined =>
  selectTopK(scored, 1)[0]

interface Entry extends ScoredPrompt {
  /** The system's traces on the evaluation batch with this prompt for the agent. */
  readonly traces: ReadonlyArray<Trace>
}

export const runApe = Effect.fn("runApe")(function* (
  input: BaselineInput,
  options: ApeOptions = defaultApeOptions
) {
  const refiner = yield* Refiner
  const { topology, task, concurrency } = input
  const logger = stepLogger(APE_METHOD)
  const judge = {
    debiasPosition: options.debiasPosition,
    seed: deriveSeed(input.seed, `${APE_METHOD}-judge`)
  }
  let prompts: PromptSet = { ...input.prompts }
  let stoppedBy: BaselineResult["stoppedBy"] = "schedule"

  /**
   * One unit of complete work (a system run, a proposal, a candidate's scoring): `None`, and the run
   * ends, when the cap refused one of its calls; the units completed before still count.
   */
  const unit = <A, E, R>(work: Effect.Effect<A, E | BudgetExhausted, R>) =>
    Effect.tap(completedStep(work), (done) =>
      Effect.sync(() => {
        if (Option.isNone(done)) stoppedBy = "budget"
      })
    )

  const stopped = () => stoppedBy === "budget"

  const search = Effect.gen(function* () {
    for (const agentId of topology.agentIds) {
      if (stopped()) break
      const node = agentNode(topology, agentId)!
      const rng = new SeededRng(deriveSeed(input.seed, `${APE_METHOD}-eval/${agentId}`))
      const batch = rng.sample(input.pool, options.evalBatchSize)
      const traceRng = new SeededRng(deriveSeed(input.seed, `${APE_METHOD}-traces/${agentId}`))
      const run = yield* unit(runSystem(topology, prompts, task, batch, concurrency))
      if (Option.isNone(run)) break
      const reference = run.value
      const seed: Entry = { prompt: prompts[agentId]!, score: 0.5, order: 0, traces: reference }
      const scored: Array<Entry> = [seed]
      let top: Array<Entry> = [seed]

      const withBest = (): PromptSet => ({ ...prompts, [agentId]: bestScored(scored)!.prompt })

      /** Proposals from one parent's traces, then each new one scored; stops early at the cap. */
      const generation = Effect.fnUntraced(function* (
        parents: ReadonlyArray<Entry>,
        children: number,
        shuffle: boolean
      ) {
        const fresh: Array<Entry> = []
        const notes: Array<BaselineCandidate> = []
        for (const parent of parents) {
          if (stopped()) break
          const proposed = yield* unit(
            refiner.propose({
              agentId,
              agentRole: node.role,
              prompt: parent.prompt,
              traces: shuffle
                ? traceRng.shuffle(refineTraces(batch, parent.traces, agentId))
                : refineTraces(batch, parent.traces, agentId),
              children
            })
          )
          if (Option.isNone(proposed)) break
          const outcome = proposed.value
          for (const r of outcome.rejected) {
            notes.push({
              agentId,
              ...(r.prompt !== undefined ? { prompt: r.prompt } : {}),
              score: 0,
              accepted: false,
              note: `rejected: ${r.reason}`
            })
          }
          for (const proposal of outcome.proposals) {
            if (scored.some((s) => s.prompt === proposal.prompt)) {
              notes.push({
                agentId,
                prompt: proposal.prompt,
                score: 0,
                accepted: false,
                note: "already scored"
              })
              continue
            }
            if (stopped()) break
            const trial: PromptSet = { ...prompts, [agentId]: proposal.prompt }
            const trialRun = yield* unit(
              Effect.gen(function* () {
                const traces = yield* rerunAgent(
                  topology,
                  trial,
                  task,
                  batch,
                  reference,
                  agentId,
                  concurrency
                )
                const prefs = yield* localPreferences(
                  batch,
                  traces,
                  reference,
                  agentId,
                  node.role,
                  judge,
                  concurrency
                )
                return { traces, prefs }
              })
            )
            if (Option.isNone(trialRun)) break
            const { traces, prefs } = trialRun.value
            const entry: Entry = {
              prompt: proposal.prompt,
              score: meanPreference(prefs),
              order: scored.length,
              traces
            }
            scored.push(entry)
            fresh.push(entry)
          }
        }
        return { fresh, notes }
      })

      const record = (label: string, fresh: ReadonlyArray<Entry>, notes: ReadonlyArray<BaselineCandidate>) =>
        logger.record({
          kind: "generation",
          agentId,
          candidates: [
            ...fresh.map((e): BaselineCandidate => ({
              agentId,
              prompt: e.prompt,
              score: e.score,
              accepted: top.includes(e),
              note: e === seed ? `${label}: seed` : label
            })),
            ...notes.map((n) => ({ ...n, note: `${label}: ${n.note}` }))
          ],
          best: withBest()
        })

      const first = yield* generation([seed], options.candidates, false)
      top = selectTopK([...top, ...first.fresh], options.topK)
      yield* record("generation 0", [seed, ...first.fresh], first.notes)
      for (let it = 1; it <= options.iterations && !stopped(); it++) {
        const next = yield* generation(top, options.proposalsPerTop, true)
        top = selectTopK([...top, ...next.fresh], options.topK)
        yield* record(`generation ${it}`, next.fresh, next.notes)
      }
      prompts = withBest()
    }
  })
  yield* underCap(input.cap, search)

  return { method: APE_METHOD, prompts, log: logger.log, stoppedBy } satisfies BaselineResult
})
