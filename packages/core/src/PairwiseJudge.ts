import { Context, Deferred, Effect, Layer } from "effect"
import { stableHash } from "./canonical.ts"
import { LanguageModel, type ModelCallError } from "./LanguageModel.ts"
import type { PairwiseLevel } from "./protocol.ts"
import { unitFromParts } from "./random.ts"
import { type JudgeKind, judgeRequest, parseVerdictWith, type Verdict } from "./templates/requests.ts"
import { RequestTemplates, templateOf } from "./templates/TemplateSet.ts"

export interface Comparison {
  readonly question: string
  readonly level: PairwiseLevel
  readonly reference: string
  readonly candidate: string
  readonly agentRole?: string
  /** Which request of the run's template set asks it (default: the generic one, maspo's). */
  readonly kind?: JudgeKind
  /** Shown by the answer evaluation. */
  readonly agentType?: string
  /** The task's answer requirement, shown by the final-answer comparison and the answer evaluation. */
  readonly requirement?: string
}

export interface JudgeOptions {
  /** Ask in both orders; the candidate wins only if both orders prefer it (disagreement = tie). */
  readonly debiasPosition: boolean
  /**
   * Off: a verdict is a win or a loss, as in the released code: asked in both orders a win needs both
   * to agree, and a reply the template set's parser cannot read (sets with no rule for it, like
   * maspo's; the paper set reads every reply) is a loss. On (default): both count 0.5.
   */
  readonly tiesAtHalf?: boolean
  /** Seed for the candidate's position when asking in one order only. */
  readonly seed: number
  /** Identical texts are a tie without asking (a judge's answer there is noise). */
  readonly skipIdentical: boolean
  /** Never re-ask a comparison already answered for the same texts in the same order. */
  readonly memoize: boolean
  /**
   * Asked in one order, the candidate is always shown as A (the released code) instead of by the
   * seeded coin. Ignored with `debiasPosition`.
   */
  readonly candidateFirst?: boolean
}

/**
 * Comparison key -> verdict ("A", "B", "candidate" when the set's rule gives the candidate the win
 * whatever its position, or "" when the reply named neither).
 */
export type JudgeMemo = Readonly<Record<string, "A" | "B" | "candidate" | "">>

export const defaultJudgeOptions: JudgeOptions = {
  debiasPosition: false,
  seed: 0,
  skipIdentical: true,
  memoize: true
}

/**
 * Label-free pairwise preference through the evaluator LLM: 1 when the candidate is preferred, 0 when
 * the reference is, 0.5 for a tie. An unparsable verdict counts as a tie rather than failing a run.
 */
export class PairwiseJudge extends Context.Service<
  PairwiseJudge,
  {
    readonly compare: (c: Comparison, options: JudgeOptions) => Effect.Effect<number, ModelCallError>
    /** Judge calls saved by the memo and the identical-text rule (for call accounting). */
    readonly saved: Effect.Effect<{ readonly memo: number; readonly identical: number }>
    /** Answered comparisons, for checkpoints: a resumed run must not re-ask what it already knows. */
    readonly snapshot: Effect.Effect<JudgeMemo>
    readonly restore: (memo: JudgeMemo) => Effect.Effect<void>
  }
>()("@maspo/core/PairwiseJudge") {
  static readonly layer = Layer.effect(
    PairwiseJudge,
    Effect.gen(function* () {
      const lm = yield* LanguageModel
      const templates = yield* RequestTemplates
      // In-flight answers are shared too, so call counts do not depend on scheduling.
      const memo = new Map<string, Deferred.Deferred<Verdict, ModelCallError>>()
      const answered = new Map<string, "A" | "B" | "candidate" | "">()
      const saved = { memo: 0, identical: 0 }

      const ask = Effect.fnUntraced(function* (c: Comparison, a: string, b: string, useMemo: boolean) {
        const kind = c.kind ?? "judge-generic"
        // maspo's generic request keeps its old key, so memos in existing checkpoints stay valid.
        const key =
          kind === "judge-generic"
            ? stableHash([c.question, c.level, c.agentRole ?? "", a, b])
            : stableHash([kind, c.question, c.level, c.agentRole ?? "", c.requirement ?? "", a, b])
        const known = useMemo ? memo.get(key) : undefined
        if (known) {
          saved.memo++
          return yield* Deferred.await(known)
        }
        const slot = yield* Deferred.make<Verdict, ModelCallError>()
        if (useMemo) memo.set(key, slot)
        const reply = yield* lm
          .generate(
            "evaluator",
            judgeRequest(templates, kind, {
              question: c.question,
              level: c.level,
              a,
              b,
              ...(c.agentRole ? { agentRole: c.agentRole } : {}),
              ...(c.agentType ? { agentType: c.agentType } : {}),
              ...(c.requirement ? { requirement: c.requirement } : {})
            })
          )
          .pipe(Effect.tapError((e) => Deferred.fail(slot, e)))
        const verdict = parseVerdictWith(templateOf(templates, kind).file.reply, reply.text)
        if (useMemo) answered.set(key, verdict ?? "")
        yield* Deferred.succeed(slot, verdict)
        return verdict
      })

      const compare = Effect.fn("PairwiseJudge.compare")(function* (c: Comparison, options: JudgeOptions) {
        if (options.skipIdentical && c.reference === c.candidate) {
          saved.identical++
          return 0.5
        }
        const ties = options.tiesAtHalf ?? true
        if (options.debiasPosition) {
          const first = yield* ask(c, c.candidate, c.reference, options.memoize)
          const second = yield* ask(c, c.reference, c.candidate, options.memoize)
          const firstWins = first === "A" || first === "candidate"
          const secondWins = second === "B" || second === "candidate"
          if (firstWins && secondWins) return 1
          if (first === "B" && second === "A") return 0
          return ties ? 0.5 : 0
        }
        // One order only: the candidate's position is a seeded coin per comparison, so position bias
        // adds noise instead of a systematic push towards candidates or references (unless the run
        // asks for the released code's fixed order).
        const candidateFirst =
          options.candidateFirst === true ||
          unitFromParts("position", options.seed, c.question, c.level, c.reference, c.candidate) < 0.5
        const verdict = candidateFirst
          ? yield* ask(c, c.candidate, c.reference, options.memoize)
          : yield* ask(c, c.reference, c.candidate, options.memoize)
        // The set's reply format decides what a reply naming no letter means (`candidate`: the
        // released rule); a reply it cannot read at all is a tie, or a loss without ties.
        if (verdict === undefined) return ties ? 0.5 : 0
        if (verdict === "candidate") return 1
        return (verdict === "A") === candidateFirst ? 1 : 0
      })

      const restore = (snapshot: JudgeMemo) =>
        Effect.gen(function* () {
          for (const [key, v] of Object.entries(snapshot)) {
            const slot = yield* Deferred.make<Verdict, ModelCallError>()
            yield* Deferred.succeed(slot, v === "" ? undefined : v)
            memo.set(key, slot)
            answered.set(key, v)
          }
        })

      return PairwiseJudge.of({
        compare,
        saved: Effect.sync(() => ({ ...saved })),
        snapshot: Effect.sync(() => Object.fromEntries(answered)),
        restore
      })
    })
  )
}
