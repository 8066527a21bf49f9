/**
 * Misalignment cases: items where a candidate wins locally but loses downstream. They show a
 * successor what its predecessor's "better" outputs do to it, so they are injected into the
 * successors' next batches.
 */

export interface ItemVerdict {
  readonly itemId: string
  /** 1 candidate wins, 0 loses, 0.5 tie; undefined when the level was not judged. */
  readonly local?: number
  readonly lookahead?: number
  readonly global?: number
}

export interface CaseRecord {
  readonly itemId: string
  /** The agent whose candidate produced the case. */
  readonly agentId: string
  /** 2 when both downstream levels lost, 1 when one did (misalignment); for success cases, 2 = won everywhere. */
  readonly severity: number
  /** Order of discovery, to break ties deterministically (older first). */
  readonly seq: number
}

const lost = (x: number | undefined) => x !== undefined && x < 0.5
const won = (x: number | undefined) => x !== undefined && x > 0.5

export const isMisaligned = (v: ItemVerdict): boolean => won(v.local) && (lost(v.lookahead) || lost(v.global))

export const misalignmentSeverity = (v: ItemVerdict): number =>
  (lost(v.lookahead) ? 1 : 0) + (lost(v.global) ? 1 : 0)

export const isSuccess = (v: ItemVerdict): boolean =>
  won(v.local) && !lost(v.lookahead) && !lost(v.global) && (won(v.lookahead) || won(v.global))

/** Fraction of judged items that are misaligned (logged per step). */
export const misalignmentRate = (verdicts: ReadonlyArray<ItemVerdict>): number =>
  verdicts.length === 0 ? 0 : verdicts.filter(isMisaligned).length / verdicts.length

/**
 * Keeps the top `k` cases for an agent: higher severity first ("both lose" before "one loses"), then
 * the most recent; one entry per item.
 */
export const rankCases = (cases: ReadonlyArray<CaseRecord>, k: number): Array<CaseRecord> => {
  const perItem = new Map<string, CaseRecord>()
  for (const c of cases) {
    const prev = perItem.get(c.itemId)
    if (!prev || c.severity > prev.severity || (c.severity === prev.severity && c.seq > prev.seq))
      perItem.set(c.itemId, c)
  }
  return [...perItem.values()].sort((a, b) => b.severity - a.severity || b.seq - a.seq).slice(0, k)
}

/**
 * The released ranking of one candidate's cases: both downstream levels lost, then lookahead lost,
 * then global lost; batch order within a class; the first `k`.
 */
export const releasedCases = (verdicts: ReadonlyArray<ItemVerdict>, k: number): Array<ItemVerdict> => {
  const priority = (v: ItemVerdict) => (lost(v.lookahead) && lost(v.global) ? 0 : lost(v.lookahead) ? 1 : 2)
  return verdicts
    .filter(isMisaligned)
    .map((v, order) => ({ v, order }))
    .sort((a, b) => priority(a.v) - priority(b.v) || a.order - b.order)
    .slice(0, k)
    .map((e) => e.v)
}
