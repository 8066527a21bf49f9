import { canonicalJson } from "@maspo/core"

/** One setting that differs between a saved run (a checkpoint) and the one requested now. */
export interface SettingDifference {
  readonly field: string
  readonly saved: unknown
  readonly requested: unknown
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v)

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b)

/**
 * The leaf fields (dotted paths; arrays are compared whole) whose values differ between two JSON
 * values, in sorted order. A field present on one side only differs with `undefined` on the other.
 */
export const settingsDiff = (saved: unknown, requested: unknown, prefix = ""): Array<SettingDifference> => {
  if (!isRecord(saved) || !isRecord(requested))
    return same(saved, requested) ? [] : [{ field: prefix || "(value)", saved, requested }]
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(requested)])].sort()
  return keys.flatMap((k) => settingsDiff(saved[k], requested[k], prefix ? `${prefix}.${k}` : k))
}

const show = (v: unknown): string => {
  if (v === undefined) return "(absent)"
  if (Array.isArray(v) && JSON.stringify(v).length > 60) return `[${v.length} values]`
  const text = JSON.stringify(v)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

/** "rounds: checkpoint 2, requested 1; seed: checkpoint 4, requested 5". */
export const formatDifferences = (diffs: ReadonlyArray<SettingDifference>): string =>
  diffs.map((d) => `${d.field}: checkpoint ${show(d.saved)}, requested ${show(d.requested)}`).join("; ")
