/**
 * The evolutionary beam search's pure rules, separated from the LLM calls so they can be pinned by
 * tests: acceptance, cumulative scoring, pruning with duplicates, refresh re-anchoring.
 */

export interface BeamMember {
  readonly prompt: string
  /** Cumulative score J: the sum of the scores along the member's line of accepted ancestors. */
  readonly score: number
}

export interface ScoredChild {
  readonly parent: BeamMember
  readonly prompt: string
  /** R(child, parent): win rate minus 0.5, so > 0 means the child beat its parent. */
  readonly reward: number
}

/**
 * A child that beats its parent enters with J(child) = R(child, parent) + J(parent); one that does
 * not is replaced by its parent.
 */
export const acceptChild = (c: ScoredChild): BeamMember & { readonly accepted: boolean } =>
  c.reward > 0
    ? { prompt: c.prompt, score: c.reward + c.parent.score, accepted: true }
    : { prompt: c.parent.prompt, score: c.parent.score, accepted: false }

/**
 * The next beam: the best `width` distinct prompts by J. Among duplicates the higher J is kept; ties in
 * J keep the earlier entry, so the result depends only on the input order, never on sort instability.
 */
export const pruneBeam = (
  entries: ReadonlyArray<BeamMember>,
  width: number,
  dedupe = true
): Array<BeamMember> => {
  // The released search keeps duplicates: a stable sort by J, ties in input order.
  if (!dedupe)
    return entries
      .map((member, order) => ({ member, order }))
      .sort((a, b) => b.member.score - a.member.score || a.order - b.order)
      .slice(0, width)
      .map((e) => e.member)
  const best = new Map<string, { member: BeamMember; order: number }>()
  entries.forEach((member, order) => {
    const seen = best.get(member.prompt)
    if (!seen || member.score > seen.member.score)
      best.set(member.prompt, { member, order: seen?.order ?? order })
  })
  return [...best.values()]
    .sort((a, b) => b.member.score - a.member.score || a.order - b.order)
    .slice(0, width)
    .map((e) => e.member)
}

/**
 * The next beam: each parent's children, a rejected child standing in as its parent; a parent that got
 * no usable child survives as itself.
 */
export const nextBeam = (
  families: ReadonlyArray<{
    readonly parent: BeamMember
    readonly children: ReadonlyArray<ScoredChild>
    /** Proposals that fell back to or equal the parent, each a copy of it (the released search). */
    readonly parentCopies?: number
  }>,
  width: number,
  dedupe = true
) =>
  pruneBeam(
    families.flatMap((f) => {
      const nodes: Array<BeamMember> = f.children.map((c) => {
        const { prompt, score } = acceptChild(c)
        return { prompt, score }
      })
      for (let i = 0; i < (f.parentCopies ?? 0); i++) nodes.push(f.parent)
      return nodes.length === 0 ? [f.parent] : nodes
    }),
    width,
    dedupe
  )

/** The released code's margin: a best-so-far is replaced only by a J higher by more than this. */
export const BEST_MARGIN = 1e-6

/**
 * The released best-so-far update. Each member offers itself plus its best child's reward when that
 * is positive; the first strictly highest offer is the step's best, which replaces `best` only if
 * it beats it by more than BEST_MARGIN. Returns the index of the member that set a new best, if any.
 */
export const updateBest = (
  best: BeamMember,
  offers: ReadonlyArray<{ readonly member: BeamMember; readonly child?: ScoredChild }>
): { best: BeamMember; setBy?: number } => {
  let current = best
  let from: number | undefined
  offers.forEach((o, i) => {
    const gain = o.child && o.child.reward > 0 ? o.child.reward : 0
    const offer = { prompt: gain > 0 ? o.child!.prompt : o.member.prompt, score: o.member.score + gain }
    if (offer.score > current.score) {
      current = offer
      from = i
    }
  })
  return current.score > best.score + BEST_MARGIN && from !== undefined
    ? { best: current, setBy: from }
    : { best }
}

/** A member's best child: the highest reward > 0, the earliest on ties (the released rule). */
export const localBest = (children: ReadonlyArray<ScoredChild>): ScoredChild | undefined =>
  children.reduce<ScoredChild | undefined>(
    (b, c) => (c.reward > 0 && (!b || c.reward > b.reward) ? c : b),
    undefined
  )

/** The member with the highest J (the earliest on ties). */
export const bestOf = (beam: ReadonlyArray<BeamMember>): BeamMember =>
  beam.reduce((best, m) => (m.score > best.score ? m : best))

/**
 * Beam refresh on a revisit: downstream prompts have changed since the beam was scored, so old J
 * values are stale. Each member is re-scored against the current best on fresh items and J is
 * re-anchored at the best (J(best) = 0).
 */
export const reanchorBeam = (
  beam: ReadonlyArray<BeamMember>,
  best: string,
  rewardAgainstBest: ReadonlyMap<string, number>
): Array<BeamMember> =>
  beam.map((m) => ({
    prompt: m.prompt,
    score: m.prompt === best ? 0 : (rewardAgainstBest.get(m.prompt) ?? 0)
  }))

/** The released refresh's beam: re-anchored, then stably sorted by the new J. */
export const resortBeam = (beam: ReadonlyArray<BeamMember>): Array<BeamMember> =>
  pruneBeam(beam, beam.length, false)
