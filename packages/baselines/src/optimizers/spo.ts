import { Effect, Option } from "effect"
import {
  agentNode,
  agentTrace,
  deriveSeed,
  type PromptSet,
  type RefineTrace,
  Refiner,
  SeededRng,
  type Topology,
  type Trace,
  type TaskItem,
  Budget,
  completedStep,
  isCapped
} from "@maspo/core"
import {
  type BaselineCandidate,
  type BaselineInput,
  type BaselineResult,
  underCap,
  spent,
  stepLogger
} from "./contract.ts"
import { localPreferences, rerunAgent, runSystem } from "./scoring.ts"

/**
 * SPO-style per-agent optimizer (self-supervised prompt optimization, one agent at a time).
 *
 * Agents are visited in topological order, `stepsPerVisit` steps a visit, `rounds` rounds. One step
 * for agent A: draw a batch from the pool, run the system with the current prompts, ask the Refiner
 * for ONE new prompt for A from A's traces, re-run A and its descendants with it, and compare A's new
 * outputs with its current ones through the label-free pairwise judge (local level only). The
 * candidate is accepted when the mean preference is strictly above 0.5, and is published at once, so
 * later steps and later agents run with it.
 *
 * Cost of one step on a two-agent chain with a batch of 10: 40 agent calls for the current system,
 * 1 optimizer call, 40 (first agent) or 20 (last agent) agent calls for the re-run, and 10 judge
 * comparisons (20 calls with position debiasing; identical outputs cost nothing). The default
 * schedule (3 rounds x 2 agents x 6 steps = 36 steps) thus makes about 2,900 calls, like MASPO's
 * defaults. With a cap the rounds repeat until the cap is reached.
 */

export interface SpoOptions {
  /** Rounds over all agents (ignored under a budget cap: rounds repeat until the cap). Default 3. */
  readonly rounds: number
  /** Steps (one proposal each) per agent visit. Default 6. */
  readonly stepsPerVisit: number
  /** Pool items per step. Default 10. */
  readonly batchSize: number
  /** Ask every comparison in both orders (a win needs both). Default true. */
  readonly debiasPosition: boolean
}

export const defaultSpoOptions: SpoOptions = {
  rounds: 3,
  stepsPerVisit: 6,
  batchSize: 10,
  debiasPosition: true
}

export const SPO_METHOD = "spo"

/** Mean of per-item preferences; an empty batch carries no evidence and counts as a tie (0.5). */
export const meanPreference = (prefs: ReadonlyArray<number>): number =>
  prefs.length === 0 ? 0.5 : prefs.reduce((a, b) => a + b, 0) / prefs.length

/** SPO's acceptance rule: the candidate must be preferred on average, strictly. */
export const spoAccepts = (prefs: ReadonlyArray<number>): boolean => meanPreference(prefs) > 0.5

export interface SpoVisit {
  readonly round: number
  readonly agentId: string
  readonly step: number
}

/** One round of the schedule: agents in topological order, `stepsPerVisit` steps each. */
export const spoRound = (topology: Topology, round: number, options: SpoOptions): Array<SpoVisit> =>
  topology.agentIds.flatMap((agentId) =>
    Array.from({ length: Math.max(0, options.stepsPerVisit) }, (_, step) => ({ round, agentId, step }))
  )

/** An agent's traces on a batch, as the Refiner reads them. */
export const refineTraces = (
  items: ReadonlyArray<TaskItem>,
  traces: ReadonlyArray<Trace>,
  agentId: string
): Array<RefineTrace> =>
  items.map((item, i) => {
    const t = agentTrace(traces[i]!, agentId)!
    return { question: item.question, context: t.context, output: t.rawOutput }
  })

export const runSpo = Effect.fn("runSpo")(function* (
  input: BaselineInput,
  options: SpoOptions = defaultSpoOptions
) {
  const refiner = yield* Refiner
  const { topology, task, concurrency } = input
  const logger = stepLogger(SPO_METHOD)
  const rng = new SeededRng(deriveSeed(input.seed, `${SPO_METHOD}-batches`))
  const judge = {
    debiasPosition: options.debiasPosition,
    seed: deriveSeed(input.seed, `${SPO_METHOD}-judge`)
  }
  const capped = isCapped(input.cap)
  let prompts: PromptSet = { ...input.prompts }

  const step = Effect.fnUntraced(function* (visit: SpoVisit) {
    const { agentId } = visit
    const node = agentNode(topology, agentId)!
    const batch = rng.sample(input.pool, options.batchSize)
    const current = yield* runSystem(topology, prompts, task, batch, concurrency)
    const outcome = yield* refiner.propose({
      agentId,
      agentRole: node.role,
      prompt: prompts[agentId]!,
      traces: refineTraces(batch, current, agentId),
      children: 1
    })
    const candidates: Array<BaselineCandidate> = []
    const note = `round ${visit.round} step ${visit.step}`
    for (const proposal of outcome.proposals) {
      const trial: PromptSet = { ...prompts, [agentId]: proposal.prompt }
      const traces = yield* rerunAgent(topology, trial, task, batch, current, agentId, concurrency)
      const prefs = yield* localPreferences(batch, traces, current, agentId, node.role, judge, concurrency)
      const accepted = spoAccepts(prefs)
      candidates.push({ agentId, prompt: proposal.prompt, score: meanPreference(prefs), accepted, note })
      if (accepted) prompts = trial
    }
    for (const r of outcome.rejected) {
      candidates.push({
        agentId,
        ...(r.prompt !== undefined ? { prompt: r.prompt } : {}),
        score: 0,
        accepted: false,
        note: `${note}: rejected: ${r.reason}`
      })
    }
    yield* logger.record({ kind: "step", agentId, candidates, best: prompts })
  })

  let stoppedBy: BaselineResult["stoppedBy"] = "schedule"
  const budget = yield* Budget
  yield* underCap(
    input.cap,
    Effect.gen(function* () {
      run: for (let round = 0; capped || round < options.rounds; round++) {
        const before = spent(yield* budget.report)
        const visits = spoRound(topology, round, options)
        for (const visit of visits) {
          const kept = prompts
          if (Option.isNone(yield* completedStep(step(visit)))) {
            // A step the cap cut short is dropped, prompts it accepted before the refusal included.
            prompts = kept
            stoppedBy = "budget"
            break run
          }
        }
        // A round that spends nothing would never reach the cap: stop instead of looping forever.
        const after = spent(yield* budget.report)
        if (after.calls === before.calls && after.tokens === before.tokens) break
      }
    })
  )
  return { method: SPO_METHOD, prompts, log: logger.log, stoppedBy } satisfies BaselineResult
})
