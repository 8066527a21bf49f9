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
import {
  bestOf,
  localBest,
  nextBeam,
  reanchorBeam,
  resortBeam,
  type ScoredChild,
  updateBest
} from "./beam.ts"
import { Evaluator, type ReferenceRun } from "./Evaluator.ts"
import {
  type CaseRecord,
  isMisaligned,
  type ItemVerdict,
  isSuccess,
  misalignmentRate,
  misalignmentSeverity,
  rankCases,
  releasedCases
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

  const feedbackFor = (source: CaseRecord) =>
    config.caseSampling === "success"
      ? `Upstream agent '${source.agentId}' changed its output on this item and the system improved.`
      : `Upstream agent '${source.agentId}' changed its output on this item; its own output looked better but the downstream result got worse.`

  /** maspo: undelivered cases by severity then recency, one per item, at most min(maxInjected, B). */
  const sharedInjection = (agentId: string): Array<CaseRecord> => {
    const agent = state.agents[agentId]!
    const offered =
      config.caseSampling === "random"
        ? []
        : topology.predecessors
            .get(agentId)!
            .flatMap((p) => state.agents[p]?.cases ?? [])
            .filter(
              (c) => (!config.injectOnce || !agent.delivered.includes(caseKey(c))) && poolById.has(c.itemId)
            )
            .sort((a, b) => b.severity - a.severity || b.seq - a.seq)
    const injected: Array<CaseRecord> = []
    for (const c of offered) {
      if (injected.length >= Math.min(config.maxInjected, config.batchSize)) break
      if (!injected.some((x) => x.itemId === c.itemId)) injected.push(c)
    }
    return injected
  }

  /** Released: the predecessors' stored cases, one per item in stored order; a seeded sample when too many. */
  const memberInjection = (agentId: string, rng: SeededRng): Array<CaseRecord> => {
    const delivered = state.agents[agentId]!.delivered
    const stored: Array<CaseRecord> = []
    if (config.caseSampling !== "random")
      for (const c of topology.predecessors.get(agentId)!.flatMap((p) => state.agents[p]?.cases ?? []))
        if (
          poolById.has(c.itemId) &&
          !(config.injectOnce && delivered.includes(caseKey(c))) &&
          !stored.some((x) => x.itemId === c.itemId)
        )
          stored.push(c)
    const limit = Math.min(config.maxInjected, config.batchSize)
    return stored.length > limit ? rng.sample(stored, limit) : stored
  }

  const batchWith = (injected: ReadonlyArray<CaseRecord>, rng: SeededRng): Array<TaskItem> => {
    const injectedIds = new Set(injected.map((c) => c.itemId))
    const rest = rng.sample(
      input.pool.filter((i) => !injectedIds.has(i.id)),
      config.batchSize - injected.length
    )
    return [...injected.map((c) => poolById.get(c.itemId)!), ...rest]
  }

  const runStep = Effect.fnUntraced(function* (entry: ScheduleEntry, rng: SeededRng) {
    const { agentId } = entry
    const node = agentNode(topology, agentId)!
    const agent = state.agents[agentId]!
    const parents = agent.beam

    // Batches: injected cases from the predecessors first, then random pool items. maspo shares one
    // batch among the parents; the released search draws a batch per parent (after one draw it
    // never uses, kept so the draws follow its structure).
    let injectedPer: Array<Array<CaseRecord>>
    let batches: Array<Array<TaskItem>>
    if (config.sharedStepBatch) {
      const injected = sharedInjection(agentId)
      const batch = batchWith(injected, rng)
      injectedPer = parents.map(() => injected)
      batches = parents.map(() => batch)
    } else {
      rng.sample(input.pool, config.batchSize)
      injectedPer = []
      batches = []
      for (const _ of parents) {
        const injected = memberInjection(agentId, rng)
        injectedPer.push(injected)
        batches.push(batchWith(injected, rng))
      }
    }

    // Each parent's outputs are computed once and shared by all its children; with a shared batch
    // later parents reuse the first parent's upstream outputs.
    const runs: Array<ReadonlyArray<ReferenceRun>> = []
    for (const [p, parent] of parents.entries()) {
      const base = config.sharedStepBatch ? runs[0]?.map((r) => r.trace) : undefined
      runs.push(yield* referenceRuns(withPrompt(agentId, parent.prompt), batches[p]!, agentId, base))
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
            const source = injectedPer[p]!.find((c) => c.itemId === r.item.id)
            return {
              question: r.item.question,
              context: t.context,
              output: t.rawOutput,
              ...(source && config.caseFeedbackNote ? { feedback: feedbackFor(source) } : {})
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
    const casesOf = (verdicts: ReadonlyArray<ItemVerdict>): Array<CaseRecord> =>
      verdicts
        .filter((v) => (config.caseSampling === "success" ? isSuccess(v) : isMisaligned(v)))
        .map((v) => ({
          itemId: v.itemId,
          agentId,
          severity: config.caseSampling === "success" ? 2 : misalignmentSeverity(v),
          seq: seq++
        }))
    const families = parents.map((parent, p) => ({
      parent,
      children: evaluations
        .filter((e) => e.p === p)
        .map((e): ScoredChild => ({ parent, prompt: e.proposal.prompt, reward: e.score.reward })),
      ...(config.failedProposalKeepsParent ? { parentCopies: proposals[p]!.parentCopies } : {})
    }))
    const beam = nextBeam(families, config.beamWidth, config.dedupeBeam)

    // The released best-so-far: changed only when a member's offer beats it by more than 1e-6.
    const offers = families.map((f) => {
      const child = localBest(f.children)
      return { member: f.parent, ...(child ? { child } : {}) }
    })
    const update = updateBest(agent.best ?? { prompt: state.prompts[agentId]!, score: 0 }, offers)
    const prompt = config.bestFromBeamTop ? bestOf(beam).prompt : update.best.prompt
    let cases: Array<CaseRecord>
    if (config.casesFromAllChildren)
      cases = rankCases(
        [...agent.cases, ...evaluations.flatMap((e) => casesOf(e.score.verdicts))],
        config.misalignmentCases
      )
    else {
      // Only from the candidate that set a new best, replacing the old cases if it has any.
      const child = update.setBy !== undefined ? offers[update.setBy]!.child : undefined
      const e = child && evaluations.find((x) => x.p === update.setBy && x.proposal.prompt === child.prompt)
      const fresh = e
        ? casesOf(
            config.caseSampling === "misalignment"
              ? releasedCases(e.score.verdicts, config.misalignmentCases)
              : e.score.verdicts.filter(isSuccess).slice(0, config.misalignmentCases)
          )
        : []
      cases = fresh.length > 0 ? fresh : [...agent.cases]
    }
    const allInjected = [...new Map(injectedPer.flat().map((c) => [caseKey(c), c])).values()]
    state = {
      ...state,
      seq,
      prompts: { ...state.prompts, [agentId]: prompt },
      agents: {
        ...state.agents,
        [agentId]: {
          beam,
          cases,
          delivered: config.injectOnce ? [...agent.delivered, ...allInjected.map(caseKey)] : agent.delivered,
          ...(config.bestFromBeamTop ? {} : { best: update.best })
        }
      }
    }
    const log: Omit<StepLog, "index" | "budget"> = {
      round: entry.round,
      agentId,
      kind: "step",
      step: entry.step,
      batch: batches[0]!.map((i) => i.id),
      ...(config.sharedStepBatch ? {} : { batches: batches.map((b) => b.map((i) => i.id)) }),
      injected: [...new Set(allInjected.map((c) => c.itemId))],
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
      best: prompt
    }
    return log
  })

  const runRefresh = Effect.fnUntraced(function* (entry: ScheduleEntry, rng: SeededRng) {
    const { agentId } = entry
    const agent = state.agents[agentId]!
    const best = state.prompts[agentId]!
    const batch = rng.sample(input.pool, config.batchSize)
    // maspo scores each distinct prompt once; the released refresh scores every member.
    const others = agent.beam.filter(
      (m, i) =>
        m.prompt !== best &&
        (config.dedupeBeam ? agent.beam.findIndex((x) => x.prompt === m.prompt) === i : true)
    )
    const rewards = new Map<string, number>()
    const children: Array<StepLog["children"][number]> = []
    if (others.length > 0 || !config.skipIdleRefreshRun) {
      const reference = yield* referenceRuns(state.prompts, batch, agentId)
      const scores = yield* Effect.forEach(
        others,
        (m) =>
          evaluator.score({
            topology,
            task,
            agentId,
            candidatePrompts: withPrompt(agentId, m.prompt),
            reference,
            ...(config.jointRefresh ? {} : { withoutLookahead: true })
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
    const anchored = reanchorBeam(
      config.keepBestOnRefresh && !agent.beam.some((m) => m.prompt === best)
        ? [{ prompt: best, score: 0 }, ...agent.beam]
        : agent.beam,
      best,
      rewards
    )
    const beam = config.bestFromBeamTop ? anchored : resortBeam(anchored)
    const top = config.bestFromBeamTop ? bestOf(beam) : beam[0]!
    state = {
      ...state,
      prompts: { ...state.prompts, [agentId]: top.prompt },
      agents: {
        ...state.agents,
        [agentId]: { ...agent, beam, ...(config.bestFromBeamTop ? {} : { best: top }) }
      }
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
