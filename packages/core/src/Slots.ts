/**
 * Prompt template slots. A slot is `{name}` with an identifier name, not preceded by a letter or a
 * backslash, so LaTeX such as `\boxed{answer}` or `\text{cm}` in a prompt is text, not a slot.
 * Every agent prompt has exactly the slots `{question}` and `{context}`, once each.
 */

export const ALLOWED_SLOTS = ["question", "context"] as const
export type SlotName = (typeof ALLOWED_SLOTS)[number]

const SLOT_RE = /(?<![A-Za-z\\])\{([A-Za-z_][A-Za-z0-9_]*)\}/g

/** Slot names in order of appearance, repeats included. */
export const findSlots = (template: string): Array<string> =>
  [...template.matchAll(SLOT_RE)].map((m) => m[1]!)

export interface SlotProblems {
  readonly unknown: ReadonlyArray<string>
  readonly duplicated: ReadonlyArray<string>
  readonly missing: ReadonlyArray<SlotName>
}

export const slotProblems = (template: string): SlotProblems => {
  const slots = findSlots(template)
  const counts = new Map<string, number>()
  for (const s of slots) counts.set(s, (counts.get(s) ?? 0) + 1)
  const allowed = new Set<string>(ALLOWED_SLOTS)
  return {
    unknown: [...counts.keys()].filter((s) => !allowed.has(s)),
    duplicated: [...counts.entries()].filter(([s, n]) => allowed.has(s) && n > 1).map(([s]) => s),
    missing: ALLOWED_SLOTS.filter((s) => !counts.has(s))
  }
}

export const describeSlotProblems = (p: SlotProblems): string | undefined => {
  const parts = [
    ...p.unknown.map((s) => `unknown slot {${s}}`),
    ...p.duplicated.map((s) => `duplicated slot {${s}}`),
    ...p.missing.map((s) => `missing slot {${s}}`)
  ]
  return parts.length === 0 ? undefined : parts.join(", ")
}

/** Appends any missing slot at the end, so a candidate that dropped one still receives its input. */
export const restoreMissingSlots = (template: string): string => {
  const { missing } = slotProblems(template)
  if (missing.length === 0) return template
  const tail = missing
    .map((s) => (s === "question" ? "Question:\n{question}" : "Context:\n{context}"))
    .join("\n\n")
  return `${template.trimEnd()}\n\n${tail}`
}

/**
 * Substitutes slots in one pass, so text inside the question that happens to look like `{context}`
 * is never substituted a second time.
 */
export const fillTemplate = (template: string, values: Readonly<Record<SlotName, string>>): string =>
  template.replace(SLOT_RE, (whole, name: string) => (name in values ? values[name as SlotName] : whole))
