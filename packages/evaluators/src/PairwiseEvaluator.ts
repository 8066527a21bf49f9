import {
  ANSWER_FORMAT,
  agentNode,
  agentTrace,
  type CandidateInput,
  type CandidateScore,
  type ItemVerdict,
  type JudgeOptions,
  MasExecutor,
  PairwiseJudge,
  type Topology,
  weightedReward
} from "@maspo/core"
import { Effect, Layer } from "effect"
import { Evaluator } from "@maspo/core"

export interface PairwiseEvaluatorOptions {
  readonly name: string
  /** Which levels are judged; a level with weight 0 is not asked at all. */
  readonly weights: { readonly local: number; readonly lookahead: number; readonly global: number }
  readonly debiasPosition: boolean
  /** Asked in one order, the candidate is always A (else a seeded coin picks its side). */
  readonly candidateFirst?: boolean
  /** 0.5 for disagreeing orders and unparsable verdicts (default); off, every verdict is a win or a loss. */
  readonly tiesAtHalf?: boolean
  /** Renormalise the weights over the levels judged (default); off, 0.7/0.3 without lookahead. */
  readonly renormalizeWeights?: boolean
  /**
   * The released lookahead: every successor (the terminal included), a comparison skipped when
   * either output is empty, the rate pooled over the comparisons made. Off (default): the terminal
   * dropped when other successors exist, every one compared, averaged per item.
   */
  readonly lookaheadPooled?: boolean
  /**
   * One generic judge request for every level (maspo) instead of the template set's requests by
   * level (see OptimizerConfig.singleJudgeRequest). Default true.
   */
  readonly singleJudgeRequest?: boolean
  /** Successor levels the lookahead looks at (1 = immediate successors). */
  readonly lookaheadDepth: number
  readonly seed: number
  /** Call-saving rules (both keep every decision the same; off reproduces the reference's call count). */
  readonly skipIdentical?: boolean
  readonly memoize?: boolean
}

/** Descendants within `depth` edges, excluding the terminal (the global level covers it). */
export const lookaheadAgents = (
  topology: Topology,
  agentId: string,
  depth: number,
  keepTerminal = false
): Array<string> => {
  const out: Array<string> = []
  let frontier = [agentId]
  for (let d = 0; d < depth; d++) {
    frontier = [...new Set(frontier.flatMap((id) => topology.successors.get(id) ?? []))]
    for (const id of frontier) if (!out.includes(id)) out.push(id)
  }
  // With a single successor that is the terminal, the paper still compares the successor's output:
  // keep it; only drop the terminal when other successors exist.
  const nonTerminal = out.filter((id) => id !== topology.terminal)
  return nonTerminal.length > 0 && !keepTerminal ? nonTerminal : out
}

const average = (xs: ReadonlyArray<number>) =>
  xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length

/**
 * MASPO's joint evaluator and its one-level variants. For each batch item: re-run the target agent and
 * its descendants with the candidate prompt (upstream outputs reused), then ask the evaluator LLM for
 * pairwise preferences between the candidate's and the reference's outputs at the local level (the
 * agent itself), the lookahead level (its successors, averaged) and the global level (final answers).
 * A terminal agent is scored by the global comparison alone (by level: the answer evaluation).
 */
export const pairwiseEvaluatorLayer = (options: PairwiseEvaluatorOptions) =>
  Layer.effect(
    Evaluator,
    Effect.gen(function* () {
      const executor = yield* MasExecutor
      const judge = yield* PairwiseJudge
      const judgeOptions: JudgeOptions = {
        debiasPosition: options.debiasPosition,
        seed: options.seed,
        skipIdentical: options.skipIdentical ?? true,
        memoize: options.memoize ?? true,
        ...(options.candidateFirst !== undefined ? { candidateFirst: options.candidateFirst } : {}),
        ...(options.tiesAtHalf !== undefined ? { tiesAtHalf: options.tiesAtHalf } : {})
      }
      const pooled = options.lookaheadPooled ?? false

      const score = Effect.fn("Evaluator.score")(function* (input: CandidateInput) {
        const { topology, agentId } = input
        const isTerminal = agentId === topology.terminal
        const weights = isTerminal
          ? { local: 0, lookahead: 0, global: 1 }
          : input.withoutLookahead
            ? { ...options.weights, lookahead: 0 }
            : options.weights
        const ahead =
          weights.lookahead > 0 ? lookaheadAgents(topology, agentId, options.lookaheadDepth, pooled) : []
        const role = agentNode(topology, agentId)?.role
        const byLevel = options.singleJudgeRequest === false
        const requirement = ANSWER_FORMAT[input.task.kind]
        // By level: intermediate outputs (the agent's, its successors') by the intermediate
        // comparison, final answers with the task's requirement, the terminal agent by the answer
        // evaluation that shows its role and the requirement.
        const request = (level: "local" | "lookahead" | "global") =>
          !byLevel
            ? level === "local" && role
              ? { agentRole: role }
              : {}
            : level !== "global"
              ? { kind: "judge-intermediate" as const }
              : isTerminal
                ? {
                    kind: "judge-answer" as const,
                    agentType: agentId,
                    requirement,
                    ...(role ? { agentRole: role } : {})
                  }
                : { kind: "judge-final" as const, requirement }

        const perItem = yield* Effect.forEach(
          input.reference,
          ({ item, trace: ref }) =>
            Effect.gen(function* () {
              const cand = yield* executor.rerunFrom(
                topology,
                input.candidatePrompts,
                input.task,
                item,
                ref,
                agentId
              )
              const compare = (level: "local" | "lookahead" | "global", id: string | undefined) => {
                const a = id ? agentTrace(ref, id)!.rawOutput : ref.finalOutput
                const b = id ? agentTrace(cand, id)!.rawOutput : cand.finalOutput
                return judge.compare(
                  {
                    question: item.question,
                    level,
                    reference: a,
                    candidate: b,
                    ...request(level)
                  },
                  judgeOptions
                )
              }
              const local = weights.local > 0 ? yield* compare("local", agentId) : undefined
              // Pooled: only successors whose outputs are non-empty on both sides are compared.
              const compared = pooled
                ? ahead.filter(
                    (id) =>
                      agentTrace(ref, id)!.rawOutput.trim() !== "" &&
                      agentTrace(cand, id)!.rawOutput.trim() !== ""
                  )
                : ahead
              const aheadWins =
                weights.lookahead > 0 ? yield* Effect.forEach(compared, (id) => compare("lookahead", id)) : []
              // Pooled, the item's lookahead verdict (for misalignment cases) is the last successor's.
              const lookahead = pooled ? aheadWins[aheadWins.length - 1] : average(aheadWins)
              const global = weights.global > 0 ? yield* compare("global", undefined) : undefined
              const verdict: ItemVerdict = {
                itemId: item.id,
                ...(local !== undefined ? { local } : {}),
                ...(lookahead !== undefined ? { lookahead } : {}),
                ...(global !== undefined ? { global } : {})
              }
              return { verdict, trace: cand, aheadWins }
            }),
          { concurrency: "unbounded" }
        )
        const verdicts = perItem.map((p) => p.verdict)
        const levels: { local?: number; lookahead?: number; global?: number } = {}
        for (const key of ["local", "lookahead", "global"] as const) {
          const v =
            key === "lookahead" && pooled
              ? average(perItem.flatMap((p) => p.aheadWins))
              : average(verdicts.flatMap((x) => (x[key] === undefined ? [] : [x[key]])))
          if (v !== undefined) levels[key] = v
        }
        const result: CandidateScore = {
          reward: weightedReward(levels, weights, options.renormalizeWeights ?? true),
          levels,
          verdicts,
          traces: perItem.map((p) => p.trace)
        }
        return result
      })

      return Evaluator.of({ name: options.name, score })
    })
  )
