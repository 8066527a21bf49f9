import { Effect } from "effect"
import { Budget, completedStep } from "../Budget.ts"
import type { BudgetCap } from "../BudgetGate.ts"
import { MasExecutor } from "../Executor.ts"
import type { ModelCallError } from "../LanguageModel.ts"
import { PairwiseJudge } from "../PairwiseJudge.ts"
import type { PromptSet } from "../PromptSet.ts"
import { deriveSeed, SeededRng } from "../random.ts"
import { ANSWER_FORMAT, type Task, type TaskItem } from "../Task.ts"
import { agentNode, type Topology } from "../Topology.ts"
import { agentTrace, type Trace } from "../Trace.ts"
import { type BeamMember, bestOf, nextBeam, reanchorBeam, type ScoredChild } from "./beam.ts"
import { Evaluator, type ReferenceRun } from "./Evaluator.ts"
import {
  type CaseRecord,
  isMisaligned,
  isSuccess,
  misalignmentRate,
  misalignmentSeverity,
  rankCases
} from "./misalignment.ts"
import type { OptimizerConfig } from "./OptimizerConfig.ts"
import { Refiner } from "./Refiner.ts"
import type { OptimizerState, StepLog } from "./state.ts"

export interface ScheduleEntry {
  readonly round: number
  readonly agentId: string
  readonly kind: "step" | "refresh"
  readonly step: number
}

/** Agents in topological order, T steps a visit, D rounds; a refresh opens every revisit. */
export const schedule = (topology: Topology, config: OptimizerConfig): Array<ScheduleEntry> => {
  const out: Array<ScheduleEntry> = []
  for (let round = 0; round < config.rounds; round++) {
    for (const agentId of topology.agentIds) {
      if (round > 0 && config.beamRefresh) out.push({ round, agentId, kind: "refresh", step: 0 })
      for (let step = 0; step < config.stepsPerVisit; step++) out.push({ round, agentId, kind: "step", step })
    }
  }
  return out
}

export interface OptimizeInput {
  readonly topology: Topology
  readonly task: Task
  /** The optimization pool. Labels are not used unless the evaluator is the ground-truth one. */
  readonly pool: ReadonlyArray<TaskItem>
  /** A complete prompt set to start from (usually the seed prompts). */
  readonly prompts: PromptSet
  readonly config: OptimizerConfig
  readonly seed: number
  /** Questions run at the same time. */
  readonly concurrency: number
  /**
   * Calls and tokens the whole run may use (restored totals of a resumed run included). A step one
   * of whose calls the cap refuses is discarded and the run ends with the state of the steps before.
   */
  readonly cap?: BudgetCap
}

export const initialState = (input: OptimizeInput): OptimizerState => ({
  version: 1,
  cursor: 0,
  prompts: input.prompts,
  agents: Object.fromEntries(
    input.topology.agentIds.map((id) => [
      id,
      { beam: [{ prompt: input.prompts[id]!, score: 0 }], cases: [], delivered: [] }
    ])
  ),
  rng: new SeededRng(deriveSeed(input.seed, "optimizer-batches")).state,
  seq: 0,
  budget: { agent: zero, optimizer: zero, evaluator: zero },
  judgeMemo: {},
  log: []
})
const zero = { calls: 0, liveCalls: 0, cacheHits: 0, promptTokens: 0, completionTokens: 0 }

export interface OptimizeHooks<E, R> {
  /** Called with the state after every schedule entry (write a checkpoint here). */
  readonly checkpoint?: (state: OptimizerState) => Effect.Effect<void, E, R>
  /** Stop after this many entries in this process (tests simulate a kill with it). */
  readonly stopAfter?: number
}

const caseKey = (c: CaseRecord) => `${c.agentId}:${c.itemId}:${c.seq}`

/**
 * MASPO's evolutionary beam search. Runs the schedule from `state.cursor`, so a state loaded from a
 * checkpoint continues the run exactly (with the same LLM responses it ends with the same prompts).
 */
export const runMaspo = Effect.fn("runMaspo")(function* <E = never, R = never>(
  input: OptimizeInput,
  start: OptimizerState,
  hooks: OptimizeHooks<E, R> = {}
) {
  const executor = yield* MasExecutor
  const refiner = yield* Refiner
  const evaluator = yield* Evaluator
  const budget = yield* Budget
  const judge = yield* PairwiseJudge
  const { topology, task, config } = input
  const plan = schedule(topology, config)
  const poolById = new Map(input.pool.map((i) => [i.id, i]))

  yield* budget.restore(start.budget)
  yield* judge.restore(start.judgeMemo)
  let state = start

  /** Runs the system with `prompts` on the batch; later parents reuse the first run's upstream outputs. */
  const referenceRuns = (
    prompts: PromptSet,
    batch: ReadonlyArray<TaskItem>,
    agentId: string,
    base?: ReadonlyArray<Trace>
  ) =>
    Effect.forEach(
      batch,
      (item, i): Effect.Effect<ReferenceRun, ModelCallError> =>
        (base
          ? executor.rerunFrom(topology, prompts, task, item, base[i]!, agentId)
          : executor.run(topology, prompts, task, item)
        ).pipe(Effect.map((trace) => ({ item, trace }))),
      { concurrency: input.concurrency }
    )

  const withPrompt = (agentId: string, prompt: string): PromptSet => ({ ...state.prompts, [agentId]: prompt })

  const runStep = Effect.fnUntraced(function* (entry: ScheduleEntry, rng: SeededRng) {
    const { agentId } = entry
    const node = agentNode(topology, agentId)!
    const agent = state.agents[agentId]!

    // Batch: injected cases from the predecessors first, then random pool items.
    const offered =
      config.caseSampling === "random"
        ? []
        : topology.predecessors
            .get(agentId)!
            .flatMap((p) => state.agents[p]?.cases ?? [])
            .filter((c) => !agent.delivered.includes(caseKey(c)) && poolById.has(c.itemId))
            .sort((a, b) => b.severity - a.severity || b.seq - a.seq)
    const injected: Array<CaseRecord> = []
    for (const c of offered) {
      if (injected.length >= Math.min(config.maxInjected, config.batchSize)) break
      if (!injected.some((x) => x.itemId === c.itemId)) injected.push(c)
    }
    const injectedIds = new Set(injected.map((c) => c.itemId))
    const rest = rng.sample(
      input.pool.filter((i) => !injectedIds.has(i.id)),
      config.batchSize - injected.length
    )
    const batch = [...injected.map((c) => poolById.get(c.itemId)!), ...rest]

    // Each parent's outputs are computed once and shared by all its children.
    const parents = agent.beam
    const runs: Array<ReadonlyArray<ReferenceRun>> = []
    for (const parent of parents) {
      const base = runs[0]?.map((r) => r.trace)
      runs.push(yield* referenceRuns(withPrompt(agentId, parent.prompt), batch, agentId, base))
    }

    const proposals = yield* Effect.forEach(
      parents,
      (parent, p) =>
        refiner.propose({
          agentId,
          agentRole: node.role,
          requirement: ANSWER_FORMAT[task.kind],
          prompt: parent.prompt,
          children: config.childrenPerParent,
          traces: runs[p]!.map((r) => {
            const t = agentTrace(r.trace, agentId)!
            const source = injected.find((c) => c.itemId === r.item.id)
            return {
              question: r.item.question,
              context: t.context,
              output: t.rawOutput,
              ...(source
                ? {
                    feedback:
                      config.caseSampling === "success"
                        ? `Upstream agent '${source.agentId}' changed its output on this item and the system improved.`
                        : `Upstream agent '${source.agentId}' changed its output on this item; its own output looked better but the downstream result got worse.`
                  }
                : {})
            }
          })
        }),
      { concurrency: "unbounded" }
    )

    const evaluations = yield* Effect.forEach(
      proposals.flatMap((outcome, p) => outcome.proposals.map((proposal) => ({ p, proposal }))),
      ({ p, proposal }) =>
        evaluator
          .score({
            topology,
            task,
            agentId,
            candidatePrompts: withPrompt(agentId, proposal.prompt),
            reference: runs[p]!
          })
          .pipe(Effect.map((score) => ({ p, proposal, score }))),
      { concurrency: "unbounded" }
    )

    let seq = state.seq
    const found: Array<CaseRecord> = []
    for (const e of evaluations) {
      for (const v of e.score.verdicts) {
        if (config.caseSampling === "success" ? isSuccess(v) : isMisaligned(v)) {
          found.push({
            itemId: v.itemId,
            agentId,
            severity: config.caseSampling === "success" ? 2 : misalignmentSeverity(v),
            seq: seq++
          })
        }
      }
    }
    const families = parents.map((parent, p) => ({
      parent,
      children: evaluations
        .filter((e) => e.p === p)
        .map((e): ScoredChild => ({ parent, prompt: e.proposal.prompt, reward: e.score.reward }))
    }))
    const beam = nextBeam(families, config.beamWidth)
    const best = bestOf(beam)
    state = {
      ...state,
      seq,
      prompts: { ...state.prompts, [agentId]: best.prompt },
      agents: {
        ...state.agents,
        [agentId]: {
          beam,
          cases: rankCases([...agent.cases, ...found], config.misalignmentCases),
          delivered: [...agent.delivered, ...injected.map(caseKey)]
        }
      }
    }
    const log: Omit<StepLog, "index" | "budget"> = {
      round: entry.round,
      agentId,
      kind: "step",
      step: entry.step,
      batch: batch.map((i) => i.id),
      injected: injected.map((c) => c.itemId),
      children: evaluations.map((e) => ({
        parent: e.p,
        prompt: e.proposal.prompt,
        modification: e.proposal.modification,
        reward: e.score.reward,
        ...e.score.levels,
        accepted: e.score.reward > 0
      })),
      rejected: proposals.flatMap((o) => o.rejected.map((r) => ({ reason: r.reason }))),
      misalignmentRate: misalignmentRate(evaluations.flatMap((e) => e.score.verdicts)),
      beam,
      best: best.prompt
    }
    return log
  })

  const runRefresh = Effect.fnUntraced(function* (entry: ScheduleEntry, rng: SeededRng) {
    const { agentId } = entry
    const agent = state.agents[agentId]!
    const best = state.prompts[agentId]!
    const batch = rng.sample(input.pool, config.batchSize)
    const others = agent.beam.filter((m) => m.prompt !== best)
    const rewards = new Map<string, number>()
    const children: Array<StepLog["children"][number]> = []
    if (others.length > 0) {
      const reference = yield* referenceRuns(state.prompts, batch, agentId)
      const scores = yield* Effect.forEach(
        others,
        (m) =>
          evaluator.score({
            topology,
            task,
            agentId,
            candidatePrompts: withPrompt(agentId, m.prompt),
            reference
          }),
        { concurrency: "unbounded" }
      )
      others.forEach((m, i) => {
        rewards.set(m.prompt, scores[i]!.reward)
        children.push({
          parent: -1,
          prompt: m.prompt,
          modification: "refresh",
          reward: scores[i]!.reward,
          ...scores[i]!.levels,
          accepted: scores[i]!.reward > 0
        })
      })
    }
    const beam: Array<BeamMember> = reanchorBeam(
      agent.beam.some((m) => m.prompt === best) ? agent.beam : [{ prompt: best, score: 0 }, ...agent.beam],
      best,
      rewards
    )
    const top = bestOf(beam)
    state = {
      ...state,
      prompts: { ...state.prompts, [agentId]: top.prompt },
      agents: { ...state.agents, [agentId]: { ...agent, beam } }
    }
    const log: Omit<StepLog, "index" | "budget"> = {
      round: entry.round,
      agentId,
      kind: "refresh",
      step: 0,
      batch: batch.map((i) => i.id),
      injected: [],
      children,
      rejected: [],
      misalignmentRate: 0,
      beam,
      best: top.prompt
    }
    return log
  })

  let ran = 0
  const loop = Effect.gen(function* () {
    while (state.cursor < plan.length && state.stopped === undefined) {
      if (hooks.stopAfter !== undefined && ran >= hooks.stopAfter) break
      const entry = plan[state.cursor]!
      const rng = new SeededRng(state.rng)
      const before = state
      const done = yield* completedStep(entry.kind === "step" ? runStep(entry, rng) : runRefresh(entry, rng))
      if (done._tag === "None") {
        // The cap refused a call of this step: drop its work, keep its calls in the budget, and say
        // why the run ended (a resumed run then ends here too, with the same figures).
        state = { ...before, budget: yield* budget.report, stopped: "budget" }
        if (hooks.checkpoint) yield* hooks.checkpoint(state)
        break
      }
      const log = done.value
      const report = yield* budget.report
      state = {
        ...state,
        cursor: state.cursor + 1,
        rng: rng.state,
        budget: report,
        judgeMemo: yield* judge.snapshot,
        log: [...state.log, { index: state.cursor, ...log, budget: report }]
      }
      if (hooks.checkpoint) yield* hooks.checkpoint(state)
      ran++
    }
  })
  yield* budget.withCap(input.cap ?? {}, loop)
  return state
})

export const isFinished = (input: OptimizeInput, state: OptimizerState): boolean =>
  state.cursor >= schedule(input.topology, input.config).length

/** Items as the optimizer sees them: without labels, nor the task payload (a code item's tests). */
export const stripLabels = (items: ReadonlyArray<TaskItem>): Array<TaskItem> =>
  items.map((i) => ({ id: i.id, question: i.question, gold: "" }))
