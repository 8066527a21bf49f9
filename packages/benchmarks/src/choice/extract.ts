/**
 * Multiple-choice answer extraction. In priority order:
 * 1. the last non-empty `<answer>…</answer>` tag: `C`, `(C)`, `C)`, `C.`, an option marker followed by
 *    the option's text (`C) 7 ( √ 3 – 1 )`), or text naming exactly one allowed letter;
 * 2. the last answer phrase: "the answer is (C)", "answer: C", "Answer: (C)", "answer is option C",
 *    or a `\boxed{C}`;
 * 3. a reply that is a lone letter, optionally in parentheses or followed by a period.
 * An answer naming two different letters ("A or C", "A and B") is undefined, and so is a letter
 * outside the allowed set. Option letters are upper case; lower-case letters are never options.
 * Pure.
 */

export const DEFAULT_LETTERS = "ABCDE"

/** `C`, `(C)`, `C)`, `C.`, `C:` alone. */
const LONE = /^\(?([A-Z])\)?[.:]?$/

/** Distinct upper-case letters standing alone (not part of a word) in `text`. */
const standaloneLetters = (text: string): Set<string> =>
  new Set([...text.matchAll(/(?<![A-Za-z])[A-Z](?![A-Za-z])/g)].map((m) => m[0]))

const fromTag = (content: string, letters: string): string | undefined => {
  const lone = LONE.exec(content)
  if (lone) return letters.includes(lone[1]!) ? lone[1] : undefined
  // `C) 7 ( √ 3 – 1 )`: an option marker, then the option's text (which may contain capitals).
  const marker = /^\(?([A-Z])\s*[).:]/.exec(content)
  if (marker) {
    const rest = content.slice(marker[0].length)
    const others = [
      ...rest.matchAll(/(?<![A-Za-z])\(?([A-Z])\s*\)/g),
      ...rest.matchAll(/\b(?:or|and)\s+\(?([A-Z])(?![A-Za-z])/g)
    ]
      .map((m) => m[1]!)
      .filter((l) => letters.includes(l))
    const letter = marker[1]!
    return letters.includes(letter) && others.every((o) => o === letter) ? letter : undefined
  }
  const named = [...standaloneLetters(content)].filter((l) => letters.includes(l))
  return named.length === 1 ? named[0] : undefined
}

// "Answer: I think …" is not option I.
const OPTION = String.raw`(?:[Oo]ption|[Cc]hoice)?\s*(?!I\s+[a-z])\(?([A-Z])\)?(?![A-Za-z])`
const PHRASE = new RegExp(
  String.raw`\b[Aa]nswer\b\s*(?:[Ii]s\b)?\s*(?:[:\-]\s*)?` +
    OPTION +
    String.raw`(?:\s*(?:,|\band\b|\bor\b|&|\/)\s*` +
    OPTION +
    ")?",
  "g"
)
const BOXED = /\\boxed\{\s*(?:\\text\{\s*)?\(?([A-Z])\)?\s*\}?\s*\}/g

interface Hit {
  readonly at: number
  readonly letters: ReadonlyArray<string>
}

const lastPhrase = (reply: string): Hit | undefined => {
  const text = reply.replace(/[*_`]/g, "")
  let hit: Hit | undefined
  for (const m of text.matchAll(PHRASE)) hit = { at: m.index, letters: [m[1]!, ...(m[2] ? [m[2]] : [])] }
  for (const m of text.matchAll(BOXED)) if (!hit || m.index > hit.at) hit = { at: m.index, letters: [m[1]!] }
  return hit
}

/** The option letter a reply chooses, or undefined when it chooses none, several, or an invalid one. */
export const extractChoice = (reply: string, letters: string = DEFAULT_LETTERS): string | undefined => {
  let tag: string | undefined
  for (const m of reply.matchAll(/<answer>([\s\S]*?)<\/answer>/gi)) {
    const content = m[1]!.trim()
    if (content !== "") tag = content
  }
  if (tag !== undefined) return fromTag(tag, letters)

  const phrase = lastPhrase(reply)
  if (phrase) {
    const distinct = new Set(phrase.letters)
    const [only] = distinct
    return distinct.size === 1 && letters.includes(only!) ? only : undefined
  }

  const lone = LONE.exec(reply.trim())
  return lone && letters.includes(lone[1]!) ? lone[1] : undefined
}
