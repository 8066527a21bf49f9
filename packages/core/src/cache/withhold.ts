/**
 * Which cache entries quote text that must not be republished (GPQA's questions). The exporter is
 * given the protected texts of each such dataset as data (core knows no dataset) and asks, for every
 * message of a request and for every answer, whether it quotes one of them.
 *
 * The rule: after collapsing every run of whitespace to one space, a text quotes a protected text
 * when it contains all of it, or shares with it a run of at least `QUOTE_MIN_CHARS` characters; the
 * same for the protected text as JSON escapes it inside a string.
 * Protected texts are indexed by every window of `WINDOW` characters; a text is probed at every
 * `STRIDE`-th position (and at its end), so any shared run of `WINDOW + STRIDE - 1` characters covers
 * a probed window. Shorter shared runs (a few words of a question restated) are not detected.
 */

/** The texts of one dataset that must not be republished. */
export interface ProtectedTexts {
  /** The dataset's name, reported with what was withheld. */
  readonly dataset: string
  readonly texts: ReadonlyArray<string>
}

const WINDOW = 32
const STRIDE = 16
/** The shortest shared run of characters that is always detected. */
export const QUOTE_MIN_CHARS = WINDOW + STRIDE - 1

const normalize = (text: string): string => text.replace(/\s+/g, " ")

/** Bits of the window-hash filter: 2^24 bits (2 MiB) hold GPQA's ~120k windows at < 1% false hits. */
const FILTER_BITS = 24

/**
 * A hash of the window at `at`, from the character codes, as a bit index of the filter: a probe
 * allocates no substring and looks up no `Map` (which cost ~1-2 µs a probe over a whole cache);
 * only a filter hit is confirmed by looking the window itself up.
 */
const hashWindow = (text: string, at: number): number => {
  let h = 0
  for (let i = at; i < at + WINDOW; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0
  return (h ^ (h >>> FILTER_BITS)) & ((1 << FILTER_BITS) - 1)
}

/** Tells which protected dataset, if any, a text quotes. Pure. */
export interface QuoteDetector {
  readonly quotes: (text: string) => string | undefined
  /** The datasets it protects, in the order given. */
  readonly datasets: ReadonlyArray<string>
}

export const quoteDetector = (sets: ReadonlyArray<ProtectedTexts>): QuoteDetector => {
  const windows = new Map<string, string>()
  const filter = new Uint32Array((1 << FILTER_BITS) / 32)
  // Texts too short to be found by the probed windows are looked for whole.
  const short: Array<{ readonly text: string; readonly dataset: string }> = []
  for (const set of sets) {
    // A text is also looked for as JSON writes it inside a string (a prompt embedding a JSON dump).
    const forms = set.texts.flatMap((t) => {
      const escaped = JSON.stringify(t).slice(1, -1)
      return escaped === t ? [t] : [t, escaped]
    })
    for (const raw of forms) {
      const text = normalize(raw)
      if (text.trim() === "") continue
      if (text.length < QUOTE_MIN_CHARS) {
        short.push({ text, dataset: set.dataset })
        continue
      }
      for (let i = 0; i + WINDOW <= text.length; i++) {
        const w = text.slice(i, i + WINDOW)
        if (!windows.has(w)) windows.set(w, set.dataset)
        const h = hashWindow(text, i)
        filter[h >>> 5]! |= 1 << (h & 31)
      }
    }
  }
  const quotes = (raw: string): string | undefined => {
    if (windows.size === 0 && short.length === 0) return undefined
    const text = normalize(raw)
    if (text.length >= WINDOW) {
      const last = text.length - WINDOW
      for (let i = 0; ; i += STRIDE) {
        const at = Math.min(i, last)
        const h = hashWindow(text, at)
        if ((filter[h >>> 5]! & (1 << (h & 31))) !== 0) {
          const hit = windows.get(text.slice(at, at + WINDOW))
          if (hit !== undefined) return hit
        }
        if (at === last) break
      }
    }
    for (const s of short) if (text.includes(s.text)) return s.dataset
    return undefined
  }
  return { quotes, datasets: sets.map((s) => s.dataset) }
}
