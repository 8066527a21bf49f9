import {
  agentNode,
  agentTrace,
  completedStep,
  type Budget,
  deriveSeed,
  InputError,
  type LanguageModelError,
  MasExecutor,
  type PairwiseJudge,
  type PromptSet,
  Refiner,
  type RefineTrace,
  SeededRng,
  type TaskItem,
  type Trace
} from "@maspo/core"
import { Effect, Option } from "effect"
import {
  type BaselineCandidate,
  type BaselineInput,
  type BaselineResult,
  underCap,
  stepLogger
} from "./contract.ts"
import {
  mergeCandidates,
  mergeKey,
  type MergePlan,
  paretoFrontier,
  rerunRoot,
  samePrompts,
  selectParent,
  splitPool
} from "./gepaPareto.ts"
import { globalPreferences, labelScores } from "./scoring.ts"

/**
 * GEPA-style reflective prompt evolution (Agrawal et al. 2025), adapted to multi-agent systems: a
 * candidate is a whole prompt set. The optimizer keeps a pool of candidates with their per-item
 * scores on a fixed Pareto validation set, and repeats:
 *
 * 1. pick a parent from the Pareto frontier (per validation item the best candidates, dominated ones
 *    dropped), with probability proportional to the number of items on whose front it is;
 * 2. pick the module (agent) to mutate round-robin PER LINEAGE: every candidate keeps a cursor into
 *    the topology's agents (in topological order); a mutation from it takes the agent under its cursor
 *    and advances the cursor; a mutated child starts at the agent after the one that was mutated (so a
 *    lineage cycles through the agents), a merged child starts at the first agent;
 * 3. run the parent on a minibatch (drawn from the pool minus the validation set) and ask the Refiner
 *    for one new prompt for that agent from its traces, with feedback per trace from the final result;
 * 4. run the child on the same minibatch (re-running only the mutated agent and its descendants); if
 *    its minibatch score sum beats the parent's, score it on the validation set and add it to the pool;
 * 5. (merge, every `mergeEvery`-th iteration when a merge is possible, else a mutation) take two
 *    frontier candidates with a common ancestor whose changed modules are disjoint, take each module
 *    from the descendant that changed it, and accept the merge when its minibatch sum is at least the
 *    better parent's (as GEPA does), then score it on the validation set.
 *
 * Scores per item: label-free (default) the global pairwise preference of the candidate's final
 * output over the seed prompt set's final output (1 / 0.5 / 0; the seed's runs are made once per item);
 * supervised the task's score against `labeledPool`. The result is the candidate with the best mean
 * validation score (ties: the earlier candidate).
 *
 * Runs are memoised per candidate and item, so no candidate runs twice on an item. The metric budget
 * counts system runs made (one per candidate and item; the seed's reference runs count too).
 *
 * Default schedule (`defaultGepaOptions`): 150 metric calls with a validation set of 10 and minibatches
 * of 3, a merge tried every 4th iteration. On a 2-agent sequential system a metric call costs at most 4
 * agent calls (answer + compression per agent, 2 when only the second agent re-runs) and 1 judge call,
 * plus one optimizer call per iteration. Measured on the simulator's sequential system (seeds 11-13):
 * 150 metric calls = 17-22 iterations and about 580-630 LLM calls, below MASPO's default (2,000-4,000);
 * `maxMetricCalls: 600` costs about 2,250 calls. For equal-cost comparisons give a budget cap and a
 * large `maxMetricCalls` (the run stops at whichever comes first).
 */

export interface GepaOptions {
  /** Pool items in the fixed Pareto validation set (seeded draw); the rest feed the minibatches. */
  readonly valSize: number
  /** Items per minibatch (reflection and the child's first test). */
  readonly minibatchSize: number
  /** Metric budget: system runs of a candidate on an item (memoised runs are free). */
  readonly maxMetricCalls: number
  /** Safety bound on loop iterations (a refiner that only repeats itself costs no metric calls). */
  readonly maxIterations: number
  /** System-aware merge of frontier candidates with disjoint module changes. */
  readonly merge: boolean
  /** A merge is tried on every `mergeEvery`-th iteration (when one is possible). */
  readonly mergeEvery: number
  /** Score with the task's labels (needs `input.labeledPool`) instead of the pairwise judge. */
  readonly supervised: boolean
  /** Label-free judge: ask every comparison in both orders. */
  readonly debiasPosition: boolean
  /**
   * Which reflection traces carry feedback on the final result: "failures" (default) only the items
   * whose final answer lost to the seed system's (label-free) or scored 0 (supervised); "all" every
   * trace. The feedback field tells the optimizer "this output led to a bad final result", so by
   * default traces that went well carry none.
   */
  readonly feedback: "failures" | "all"
}

export const defaultGepaOptions: GepaOptions = {
  valSize: 10,
  minibatchSize: 3,
  maxMetricCalls: 150,
  maxIterations: 500,
  merge: true,
  mergeEvery: 4,
  supervised: false,
  debiasPosition: false,
  feedback: "failures"
}

/** One candidate of the pool, as the detailed result reports it. */
export interface GepaCandidate {
  readonly id: number
  readonly prompts: PromptSet
  /** The candidates it came from: none for the seed, one for a mutation, two for a merge. */
  readonly parents: ReadonlyArray<number>
  readonly origin: "seed" | "mutate" | "merge"
  /** The mutated agent (mutations only). */
  readonly agentId?: string
  /** Per validation item (in `valIds` order). */
  readonly valScores: ReadonlyArray<number>
}

export interface GepaRun extends BaselineResult {
  readonly candidates: ReadonlyArray<GepaCandidate>
  readonly valIds: ReadonlyArray<string>
  readonly metricCalls: number
  readonly iterations: number
  /** The returned candidate's id. */
  readonly best: number
}

/** The feedback text for a trace whose system scored `score` on its item. */
export const feedbackText = (score: number, supervised: boolean): string =>
  supervised
    ? `Task score ${score} of 1: the system's final answer on this item is ${score >= 1 ? "right" : "wrong"}.`
    : `The system's final answer on this item was judged ${
        score >= 1 ? "better than" : score <= 0 ? "worse than" : "no better than"
      } the baseline system's final answer.`

interface Candidate {
  readonly id: number
  readonly prompts: PromptSet
  readonly parents: ReadonlyArray<number>
  readonly origin: "seed" | "mutate" | "merge"
  readonly agentId?: string
  readonly traces: Map<string, Trace>
  readonly scores: Map<string, number>
  nextModule: number
  valScores: ReadonlyArray<number>
}

const sum = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0)
const mean = (xs: ReadonlyArray<number>) => (xs.length === 0 ? 0 : sum(xs) / xs.length)

/** The GEPA-style run with its candidate pool (for inspection and tests); `runGepa` is the contract form. */
export const runGepaDetailed = Effect.fn("runGepa")(function* (
  input: BaselineInput,
  options: Partial<GepaOptions> = {}
) {
  const o: GepaOptions = { ...defaultGepaOptions, ...options }
  const method = o.supervised ? "gepa-supervised" : "gepa"
  const { topology, task } = input
  const executor = yield* MasExecutor
  const refiner = yield* Refiner
  const logger = stepLogger(method)
  const judge = { debiasPosition: o.debiasPosition, seed: deriveSeed(input.seed, "gepa-judge") }
  const agents = topology.agentIds

  // Supervised scoring reads labels from labeledPool only; the label-free path never reads `gold`.
  const labeled = new Map((input.labeledPool ?? []).map((i) => [i.id, i]))
  if (o.supervised) {
    const missing = input.pool.find((i) => !labeled.has(i.id))
    if (!input.labeledPool || missing) {
      return yield* new InputError({
        source: method,
        message: input.labeledPool
          ? `labeledPool has no item '${missing!.id}'`
          : "the supervised variant needs a labeled pool"
      })
    }
  }

  const { val, feedback } = splitPool(input.pool, o.valSize, deriveSeed(input.seed, "gepa-valset"))
  const batchSource = feedback.length > 0 ? feedback : val
  const selectRng = new SeededRng(deriveSeed(input.seed, "gepa-select"))
  const batchRng = new SeededRng(deriveSeed(input.seed, "gepa-minibatch"))
  const mergeRng = new SeededRng(deriveSeed(input.seed, "gepa-merge"))

  const candidates: Array<Candidate> = []
  let metricCalls = 0
  const fresh = (
    prompts: PromptSet,
    parents: ReadonlyArray<number>,
    origin: Candidate["origin"],
    nextModule: number,
    agentId?: string
  ): Candidate => ({
    id: candidates.length,
    prompts,
    parents,
    origin,
    ...(agentId !== undefined ? { agentId } : {}),
    traces: new Map(),
    scores: new Map(),
    nextModule,
    valScores: []
  })
  const seed = fresh(input.prompts, [], "seed", 0)
  candidates.push(seed)

  /** Runs `c` on the items it has no trace for, starting from `base`'s traces where the prompts allow. */
  const ensureTraces = (c: Candidate, items: ReadonlyArray<TaskItem>, base?: Candidate) =>
    Effect.gen(function* () {
      const missing = items.filter((i) => !c.traces.has(i.id))
      metricCalls += missing.length
      const root = base ? rerunRoot(topology, base.prompts, c.prompts) : "full"
      const traces = yield* Effect.forEach(
        missing,
        (item) => {
          const reference = base?.traces.get(item.id)
          if (reference && root === "none") return Effect.succeed(reference)
          return reference && root !== "full"
            ? executor.rerunFrom(topology, c.prompts, task, item, reference, root)
            : executor.run(topology, c.prompts, task, item)
        },
        { concurrency: input.concurrency }
      )
      missing.forEach((item, k) => c.traces.set(item.id, traces[k]!))
    })

  /** Per-item scores of `c` (memoised): preference over the seed's output, or the task's score. */
  const scoresFor = (c: Candidate, items: ReadonlyArray<TaskItem>, base?: Candidate) =>
    Effect.gen(function* () {
      yield* ensureTraces(c, items, base)
      const missing = items.filter((i) => !c.scores.has(i.id))
      if (missing.length > 0) {
        const traces = missing.map((i) => c.traces.get(i.id)!)
        let scores: ReadonlyArray<number>
        if (o.supervised) {
          scores = yield* labelScores(
            task,
            missing.map((i) => labeled.get(i.id)!),
            traces
          )
        } else {
          yield* ensureTraces(seed, missing)
          scores = yield* globalPreferences(
            missing,
            traces,
            missing.map((i) => seed.traces.get(i.id)!),
            judge,
            input.concurrency
          )
        }
        missing.forEach((item, k) => c.scores.set(item.id, scores[k]!))
      }
      return items.map((i) => c.scores.get(i.id)!)
    })

  const bestId = () => {
    let best = 0
    for (const c of candidates) if (mean(c.valScores) > mean(candidates[best]!.valScores)) best = c.id
    return best
  }
  const record = (kind: "mutate" | "merge" | "reject", candidate: BaselineCandidate, agentId?: string) =>
    logger.record({
      kind,
      ...(agentId !== undefined ? { agentId } : {}),
      candidates: [candidate],
      best: candidates[bestId()]!.prompts
    })

  /** Scores an accepted child on the validation set and adds it to the pool. */
  const admit = (child: Candidate, base?: Candidate) =>
    Effect.gen(function* () {
      child.valScores = yield* scoresFor(child, val, base)
      candidates.push(child)
    })

  const mutate = Effect.fnUntraced(function* (parent: Candidate) {
    const agentId = agents[parent.nextModule % agents.length]!
    parent.nextModule = (parent.nextModule + 1) % agents.length
    const node = agentNode(topology, agentId)!
    const batch = batchRng.sample(batchSource, o.minibatchSize)
    const parentScores = yield* scoresFor(parent, batch)
    const traces = batch.map((item, k): RefineTrace => {
      const t = agentTrace(parent.traces.get(item.id)!, agentId)!
      const score = parentScores[k]!
      const withFeedback = o.feedback === "all" || score <= 0
      return {
        question: item.question,
        context: t.context,
        output: t.rawOutput,
        ...(withFeedback ? { feedback: feedbackText(score, o.supervised) } : {})
      }
    })
    const outcome = yield* refiner.propose({
      agentId,
      agentRole: node.role,
      prompt: parent.prompts[agentId]!,
      traces,
      children: 1
    })
    const proposal = outcome.proposals[0]
    const parentNote = `parent #${parent.id}, minibatch ${batch.map((i) => i.id).join(",")}`
    if (!proposal) {
      yield* record(
        "reject",
        {
          agentId,
          score: 0,
          accepted: false,
          note: `${parentNote}: no usable proposal (${outcome.rejected.map((r) => r.reason).join("; ")})`
        },
        agentId
      )
      return "continue" as const
    }
    const prompts = { ...parent.prompts, [agentId]: proposal.prompt }
    const twin = candidates.find((c) => samePrompts(c.prompts, prompts))
    if (twin) {
      yield* record(
        "reject",
        {
          agentId,
          prompt: proposal.prompt,
          score: 0,
          accepted: false,
          note: `${parentNote}: same prompt set as candidate #${twin.id}`
        },
        agentId
      )
      return "continue" as const
    }
    const child = fresh(
      prompts,
      [parent.id],
      "mutate",
      (agents.indexOf(agentId) + 1) % agents.length,
      agentId
    )
    const childScores = yield* scoresFor(child, batch, parent)
    const before = sum(parentScores)
    const after = sum(childScores)
    const note = `${parentNote}: minibatch sum ${before} -> ${after}`
    if (after <= before) {
      yield* record(
        "reject",
        { agentId, prompt: proposal.prompt, score: mean(childScores), accepted: false, note },
        agentId
      )
      return "continue" as const
    }
    yield* admit(child, parent)
    yield* record(
      "mutate",
      {
        agentId,
        prompt: proposal.prompt,
        score: mean(child.valScores),
        accepted: true,
        note: `${note}; candidate #${child.id}, validation mean ${mean(child.valScores)}`
      },
      agentId
    )
    return "continue" as const
  })

  const merge = Effect.fnUntraced(function* (plan: MergePlan) {
    const a = candidates[plan.a]!
    const b = candidates[plan.b]!
    const batch = batchRng.sample(batchSource, o.minibatchSize)
    const sa = sum(yield* scoresFor(a, batch))
    const sb = sum(yield* scoresFor(b, batch))
    const child = fresh(plan.prompts, [a.id, b.id], "merge", 0)
    // Start from whichever parent's runs need the smaller re-run.
    const base = rerunRoot(topology, a.prompts, child.prompts) !== "full" ? a : b
    const childScores = yield* scoresFor(child, batch, base)
    const after = sum(childScores)
    const note =
      `merge of #${a.id} and #${b.id} (common ancestor #${plan.ancestor}), minibatch ` +
      `${batch.map((i) => i.id).join(",")}: sums ${sa}, ${sb} -> ${after}`
    const entry = { prompts: plan.prompts, score: mean(childScores), accepted: false, note }
    if (after < Math.max(sa, sb)) {
      yield* record("reject", entry)
      return "continue" as const
    }
    yield* admit(child, base)
    yield* record("merge", {
      ...entry,
      score: mean(child.valScores),
      accepted: true,
      note: `${note}; candidate #${child.id}, validation mean ${mean(child.valScores)}`
    })
    return "continue" as const
  })

  let stoppedBy: "schedule" | "budget" = "schedule"
  let iterations = 0
  const tried = new Set<string>()
  // Each iteration (a mutation or a merge, with the child's validation) is one step: an iteration
  // the cap cuts short adds no candidate, and the best of the candidates admitted before stands.
  const search = Effect.gen(function* () {
    if (val.length === 0 || agents.length === 0) return
    const seedScores = yield* completedStep(scoresFor(seed, val))
    if (Option.isNone(seedScores)) {
      stoppedBy = "budget"
      return
    }
    seed.valScores = seedScores.value
    while (metricCalls < o.maxMetricCalls && iterations < o.maxIterations) {
      iterations++
      const frontier = paretoFrontier(candidates.map((c) => c.valScores))
      const plans =
        o.merge && iterations % o.mergeEvery === 0 ? mergeCandidates(candidates, frontier.members, tried) : []
      let done: Option.Option<"continue">
      if (plans.length > 0) {
        const plan = plans[mergeRng.int(plans.length)]!
        tried.add(mergeKey(plan))
        done = yield* completedStep(merge(plan))
      } else {
        done = yield* completedStep(mutate(candidates[selectParent(frontier, selectRng.next())]!))
      }
      if (Option.isNone(done)) {
        stoppedBy = "budget"
        break
      }
    }
  })
  yield* underCap(input.cap, search)

  const best = bestId()
  const run: GepaRun = {
    method,
    prompts: candidates[best]!.prompts,
    log: logger.log,
    stoppedBy,
    candidates: candidates.map((c) => ({
      id: c.id,
      prompts: c.prompts,
      parents: c.parents,
      origin: c.origin,
      ...(c.agentId !== undefined ? { agentId: c.agentId } : {}),
      valScores: c.valScores
    })),
    valIds: val.map((i) => i.id),
    metricCalls,
    iterations,
    best
  }
  return run
})

/** GEPA-style optimizer in the common baseline contract (see the module comment for the algorithm). */
export const runGepa = (
  input: BaselineInput,
  options: Partial<GepaOptions> = {}
): Effect.Effect<
  BaselineResult,
  LanguageModelError | InputError,
  MasExecutor | Refiner | PairwiseJudge | Budget
> =>
  runGepaDetailed(input, options).pipe(
    Effect.map((r): BaselineResult => ({
      method: r.method,
      prompts: r.prompts,
      log: r.log,
      stoppedBy: r.stoppedBy
    }))
  )
