import { matchBrace } from "./extract.ts"

/**
 * LaTeX answer normalization and equivalence for MATH-style answers. Pure functions.
 *
 * `normalizeMath` canonicalizes notation (spacing, delimiters, \dfrac, \frac12, units, degrees,
 * percent, thousands separators, trailing zeros, a leading `x =`); `mathEquivalent` compares two
 * normalized answers as strings, then as numbers (integers, decimals, a/b, \frac{a}{b}, mixed numbers
 * such as `2\frac{1}{2}`: exactly when neither side has a decimal point, else with relative tolerance
 * 1e-6), then element by element for tuples and
 * intervals (brackets must match), matrices (cell by cell) and bare comma lists (in any order).
 * Anything else (\sqrt, \pi, expressions) is compared symbolically as a normalized string.
 */

const TEXT_COMMANDS = ["text", "textrm", "textbf", "textit", "textnormal", "mbox", "mathrm", "mathbf"]

/** Replaces `\name{X}` (also `\name {X}`) by `f(X)` for each listed command, nested groups included. */
const replaceCommand = (s: string, names: ReadonlyArray<string>, f: (inner: string) => string): string => {
  const re = new RegExp(`\\\\(?:${names.join("|")})(?![a-zA-Z])\\s*(?=\\{)`, "g")
  let out = ""
  let last = 0
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const open = m.index + m[0].length
    const end = matchBrace(s, open)
    if (end < 0) break
    out += s.slice(last, m.index) + f(replaceCommand(s.slice(open + 1, end - 1), names, f))
    last = end
    re.lastIndex = end
  }
  return out + s.slice(last)
}

/** `\boxed{X}` / `\fbox{X}` spanning the whole string -> X. */
const unwrapWhole = (s: string): string => {
  const m = /^\\(?:boxed|fbox)\s*(?=\{)/.exec(s)
  if (!m) return s
  const end = matchBrace(s, m[0].length)
  return end === s.length ? unwrapWhole(s.slice(m[0].length + 1, -1).trim()) : s
}

/** Units: a trailing `\text{…}` / `\mbox{…}` (optionally squared or cubed) after other content. */
const stripTrailingUnits = (s: string): string => {
  const re = /\\(?:text|mbox|textrm|mathrm)\s*(?=\{)/g
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const open = m.index + m[0].length
    const end = matchBrace(s, open)
    if (end < 0) return s
    const rest = s.slice(end)
    const inner = s.slice(open + 1, end - 1)
    const before = s.slice(0, m.index).trim()
    if (
      before !== "" &&
      /^\s*[a-zA-Z][a-zA-Z .]*$/.test(inner) &&
      /^\s*(\^\s*(\d|\{\s*\d\s*\}))?\s*$/.test(rest)
    )
      return stripTrailingUnits(before)
  }
  return s
}

const readArg = (s: string, i: number): readonly [string, number] | undefined => {
  const c = s[i]
  if (c === undefined) return undefined
  if (c === "{") {
    const end = matchBrace(s, i)
    return end < 0 ? undefined : [s.slice(i + 1, end - 1), end]
  }
  if (c === "\\") {
    const m = /^\\(?:[a-zA-Z]+|.)/.exec(s.slice(i))
    return m ? [m[0], i + m[0].length] : undefined
  }
  if (c === "}" || c === "^" || c === "_") return undefined
  return [c, i + 1]
}

/** `\frac12` -> `\frac{1}{2}`, `\sqrt2` -> `\sqrt{2}` (recursively inside arguments). */
const bracify = (s: string): string => {
  let out = ""
  let i = 0
  while (i < s.length) {
    const m = /^\\(frac|sqrt)(?![a-zA-Z])/.exec(s.slice(i))
    if (!m) {
      out += s[i]
      i++
      continue
    }
    out += m[0]
    i += m[0].length
    if (m[1] === "sqrt" && s[i] === "[") {
      const close = s.indexOf("]", i)
      if (close < 0) continue
      out += s.slice(i, close + 1)
      i = close + 1
    }
    const arity = m[1] === "frac" ? 2 : 1
    for (let k = 0; k < arity; k++) {
      const arg = readArg(s, i)
      if (!arg) break
      out += `{${bracify(arg[0])}}`
      i = arg[1]
    }
  }
  return out
}

/** The canonical form under which equivalent notations of one answer coincide as strings. */
export const normalizeMath = (input: string): string => {
  let s = input.replace(/\\\$/g, "").replace(/\$/g, "")
  s = unwrapWhole(s.trim())
  s = s.replace(/\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big)(?![a-zA-Z])/g, "")
  // Thin spaces (\! \, \; \: and `\ `); a `\\` row separator is kept.
  s = s.replace(/\\(\\|[!,;: ])/g, (_, c: string) => (c === "\\" ? "\\\\" : ""))
  s = s.replace(/\\[dt]frac(?![a-zA-Z])/g, "\\frac")
  s = s.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|°|\\degree(?![a-zA-Z])/g, "")
  s = s.replace(/\\%|%/g, "")
  s = stripTrailingUnits(s)
  s = replaceCommand(s, TEXT_COMMANDS, (inner) => inner)
  // Spaces go, except where one separates a command from the letters after it (`\pi r`).
  s = s.replace(/(\\[a-zA-Z]+)\s+(?=[a-zA-Z])/g, "$1\u0000")
  s = s.replace(/\s+/g, "").replace(/\u0000/g, " ")
  s = bracify(s)
  s = s.replace(/\.$/, "")
  // A leading single-variable assignment or membership: `x=3`, `x\in[-2,7]`.
  const assign = /^[a-zA-Z](?:=|\\in(?![a-zA-Z]))/.exec(s)
  if (assign && !s.slice(assign[0].length).includes("=")) s = s.slice(assign[0].length)
  // Thousands separators, only for a whole number (or a whole brace group) in groups of three.
  s = s.replace(
    /(^|\{)([+-]?\d{1,3}(?:,\d{3})+)(?=$|\})/g,
    (_, pre: string, n: string) => pre + n.replace(/,/g, "")
  )
  // Decimals: trailing zeros after the point go, `.5` -> `0.5`, `2.0` -> `2`.
  s = s.replace(/(\d*)\.(\d+)/g, (_, int: string, frac: string) => {
    const f = frac.replace(/0+$/, "")
    const i = int === "" ? "0" : int
    return f === "" ? i : `${i}.${f}`
  })
  s = s.replace(/^\(([A-Z])\)$/, "$1")
  return s
}

const NUM = String.raw`\d+(?:\.\d+)?`
const PLAIN = new RegExp(`^[+-]?${NUM}$`)
const SLASH = new RegExp(`^([+-]?)(${NUM})/(${NUM})$`)
const FRAC = new RegExp(`^([+-]?)\\\\frac\\{([+-]?${NUM})\\}\\{([+-]?${NUM})\\}$`)
const MIXED = new RegExp(`^([+-]?)(\\d+)\\\\frac\\{(\\d+)\\}\\{(\\d+)\\}$`)

/** The value of a normalized answer that is a plain number, a/b, \frac{a}{b} or a mixed number. */
export const numericValue = (s: string): number | undefined => {
  const sign = (x: string | undefined) => (x === "-" ? -1 : 1)
  const ratio = (a: number, b: number) => (b === 0 ? undefined : a / b)
  if (PLAIN.test(s)) return Number(s)
  let m = SLASH.exec(s)
  if (m) {
    const r = ratio(Number(m[2]), Number(m[3]))
    return r === undefined ? undefined : sign(m[1]) * r
  }
  m = FRAC.exec(s)
  if (m) {
    const r = ratio(Number(m[2]), Number(m[3]))
    return r === undefined ? undefined : sign(m[1]) * r
  }
  m = MIXED.exec(s)
  if (m) {
    const r = ratio(Number(m[3]), Number(m[4]))
    return r === undefined ? undefined : sign(m[1]) * (Number(m[2]) + r)
  }
  return undefined
}

const INT_RATIONAL =
  /^([+-]?)(?:(\d+)|(\d+)\/(\d+)|\\frac\{([+-]?\d+)\}\{([+-]?\d+)\}|(\d+)\\frac\{(\d+)\}\{(\d+)\})$/

/** [numerator, denominator] of an integer, an integer fraction or a mixed number (no decimals). */
export const exactRational = (s: string): readonly [bigint, bigint] | undefined => {
  const m = INT_RATIONAL.exec(s)
  if (!m) return undefined
  const sign = m[1] === "-" ? -1n : 1n
  let p: bigint
  let q: bigint
  if (m[2] !== undefined) [p, q] = [BigInt(m[2]), 1n]
  else if (m[3] !== undefined) [p, q] = [BigInt(m[3]), BigInt(m[4]!)]
  else if (m[5] !== undefined) [p, q] = [BigInt(m[5]), BigInt(m[6]!)]
  else [p, q] = [BigInt(m[7]!) * BigInt(m[9]!) + BigInt(m[8]!), BigInt(m[9]!)]
  if (q === 0n) return undefined
  return [sign * p, q]
}

export const numbersClose = (a: number, b: number): boolean =>
  a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b))

/** Splits at commas outside any bracket or brace. */
const splitTop = (s: string, sep = ","): Array<string> => {
  const parts: Array<string> = []
  let depth = 0
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === "\\") {
      i++
      continue
    }
    if (c === "(" || c === "[" || c === "{") depth++
    else if (c === ")" || c === "]" || c === "}") depth--
    else if (c === sep && depth === 0) {
      parts.push(s.slice(start, i))
      start = i + 1
    }
  }
  parts.push(s.slice(start))
  return parts
}

interface Bracketed {
  readonly open: string
  readonly close: string
  readonly items: ReadonlyArray<string>
}

/** `(a,b]`-like: one pair of round/square brackets enclosing the whole string. */
const bracketed = (s: string): Bracketed | undefined => {
  const open = s[0]
  const close = s[s.length - 1]
  if (s.length < 2 || (open !== "(" && open !== "[") || (close !== ")" && close !== "]")) return undefined
  let depth = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]
    if (c === "\\") {
      i++
      continue
    }
    if (c === "(" || c === "[" || c === "{") depth++
    else if (c === ")" || c === "]" || c === "}") depth--
    if (depth === 0 && i < s.length - 1) return undefined
  }
  return depth === 0 ? { open, close, items: splitTop(s.slice(1, -1)) } : undefined
}

const matrixCells = (s: string): ReadonlyArray<ReadonlyArray<string>> | undefined => {
  const m = /^\\begin\{([pbvBV]?matrix)\}(.*)\\end\{\1\}$/s.exec(s)
  if (!m) return undefined
  return m[2]!
    .split("\\\\")
    .filter((row) => row !== "")
    .map((row) => row.split("&"))
}

const sameLength = <A>(a: ReadonlyArray<A>, b: ReadonlyArray<A>) => a.length === b.length

const equivalentNormalized = (x: string, y: string): boolean => {
  if (x === y) return true
  if (x === "" || y === "") return false
  // Word answers ("Friday", "east") ignore case; single letters and expressions do not.
  if (/^[a-zA-Z]{3,}$/.test(x) && /^[a-zA-Z]{3,}$/.test(y)) return x.toLowerCase() === y.toLowerCase()
  const vx = numericValue(x)
  const vy = numericValue(y)
  if (vx !== undefined && vy !== undefined) {
    // Exact forms (integers, integer fractions) compare exactly; a decimal on either side may be a
    // rounding, so it compares with relative tolerance.
    const rx = exactRational(x)
    const ry = exactRational(y)
    if (rx && ry) return rx[0] * ry[1] === ry[0] * rx[1]
    return numbersClose(vx, vy)
  }
  if (vx !== undefined || vy !== undefined) return false
  const mx = matrixCells(x)
  const my = matrixCells(y)
  if (mx || my) {
    return (
      mx !== undefined &&
      my !== undefined &&
      sameLength(mx, my) &&
      mx.every(
        (row, i) => sameLength(row, my[i]!) && row.every((c, j) => equivalentNormalized(c, my[i]![j]!))
      )
    )
  }
  const bx = bracketed(x)
  const by = bracketed(y)
  if (bx && by && (bx.items.length > 1 || by.items.length > 1)) {
    return (
      bx.open === by.open &&
      bx.close === by.close &&
      sameLength(bx.items, by.items) &&
      bx.items.every((item, i) => equivalentNormalized(item, by.items[i]!))
    )
  }
  const lx = splitTop(x)
  const ly = splitTop(y)
  if (lx.length > 1 && sameLength(lx, ly)) {
    // A bare list of answers (all solutions of an equation): order does not matter.
    const used = new Set<number>()
    return lx.every((item) => {
      const j = ly.findIndex((other, k) => !used.has(k) && equivalentNormalized(item, other))
      if (j < 0) return false
      used.add(j)
      return true
    })
  }
  return false
}

/** True when two answers are the same mathematical answer; false when either is undefined. */
export const mathEquivalent = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && equivalentNormalized(normalizeMath(a), normalizeMath(b))

/** Canonical 12-significant-digit form of a number (so 0.5, 1/2 and \frac12 share a key). */
const canonicalNumber = (v: number): string => String(Number(v.toPrecision(12)))

/**
 * Majority-vote key: the normalized answer, with plain numbers and simple fractions replaced by their
 * value, so `0.5`, `\frac12` and `1/2` vote together.
 */
export const mathVoteKey = (answer: string): string => {
  const n = normalizeMath(answer)
  const v = numericValue(n)
  return v === undefined ? n : canonicalNumber(v)
}
