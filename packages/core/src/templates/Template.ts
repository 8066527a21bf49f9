import { Schema } from "effect"
import { NonNegativeNumber, PositiveInt } from "../Bounds.ts"

/**
 * A request template: the text of one kind of request maspo writes (compression, proposal, the
 * judge's comparisons), with named slots, and the reply format its parser expects. Templates are data
 * (packages/core/templates/<set>/<kind>.json, or a user's file), so the same declaration drives the
 * builder, the reply parser and the embedded simulator's reading of the request.
 *
 * Syntax of `text` (and of list items): `{{name}}` a slot; `{{#name}}...{{/name}}` shown only when
 * the slot is non-empty; `{{^name}}...{{/name}}` shown only when it is empty; `{{@name}}` a list,
 * each element rendered with `lists.name.item` and joined by `lists.name.separator`. Single braces
 * are plain text, so a template can mention `{question}` to the optimizer.
 */

export const RequestKind = Schema.Literals([
  "compress",
  "propose",
  "judge-generic",
  "judge-intermediate",
  "judge-final",
  "judge-answer"
])
export type RequestKind = typeof RequestKind.Type
/** The shipped template sets (packages/core/templates/<name>). */
export const TemplateSetName = Schema.Literals(["maspo", "paper"])
export type TemplateSetName = typeof TemplateSetName.Type

export const REQUEST_KINDS: ReadonlyArray<RequestKind> = RequestKind.literals

/**
 * How a verdict is read. `maspo-letter`: a `<verdictTag>` tag, a lone letter, a unique A/B token, the
 * first "response X"; nothing found = no verdict. `tag-else-last-letter` (the released code's rule):
 * inside the tag, "A" anywhere means A, else B; without the tag, the last alphabetic character of the
 * reply (A means A, any other letter B); a reply with no letter at all counts as the candidate's win.
 */
export const VerdictRule = Schema.Literals(["maspo-letter", "tag-else-last-letter"])
export type VerdictRule = typeof VerdictRule.Type

export const ReplyFormat = Schema.Struct({
  verdictTag: Schema.optional(Schema.String),
  verdictRule: Schema.optional(VerdictRule),
  promptTag: Schema.optional(Schema.String),
  /** Which complete `<promptTag>` block counts when there are several. */
  promptOccurrence: Schema.optional(Schema.Literals(["first", "last"])),
  /** A `<promptTag>` without its closing tag runs to the end of the reply. */
  closingTagOptional: Schema.optional(Schema.Boolean),
  analysisTag: Schema.optional(Schema.String),
  modificationTag: Schema.optional(Schema.String),
  /** A reply with no new prompt: no candidate (`reject`) or the parent's prompt (`keep-old-prompt`). */
  unparsable: Schema.optional(Schema.Literals(["reject", "keep-old-prompt"]))
})
export type ReplyFormat = typeof ReplyFormat.Type

/** Text as one string or as lines (joined with "\n"), so long templates stay readable in JSON. */
const Text = Schema.Union([Schema.String, Schema.Array(Schema.String)])

export const TemplateFile = Schema.Struct({
  kind: RequestKind,
  /** The set the template belongs to and its version: part of what a run records. */
  set: Schema.String,
  version: PositiveInt,
  temperature: Schema.optional(NonNegativeNumber),
  maxTokens: Schema.optional(PositiveInt),
  /** Slot values are trimmed before they are filled in (the released code strips what it shows). */
  trimValues: Schema.optional(Schema.Boolean),
  /** Every slot the text uses, and only those (lists and lookups are declared separately). */
  slots: Schema.Array(Schema.String),
  text: Text,
  lists: Schema.optional(
    Schema.Record(
      Schema.String,
      Schema.Struct({ slots: Schema.Array(Schema.String), item: Text, separator: Schema.String })
    )
  ),
  /** A slot whose text is chosen by another slot's value (e.g. a criterion per judging level). */
  lookups: Schema.optional(
    Schema.Record(
      Schema.String,
      Schema.Struct({ from: Schema.String, values: Schema.Record(Schema.String, Schema.String) })
    )
  ),
  reply: Schema.optional(ReplyFormat)
})
export type TemplateFile = typeof TemplateFile.Type

/** A set's own file (`set.json`): its name, version and the agents' answer-call limits. */
export const TemplateSetFile = Schema.Struct({
  set: Schema.String,
  version: PositiveInt,
  description: Schema.String,
  agentMaxTokens: Schema.optional(PositiveInt)
})
export type TemplateSetFile = typeof TemplateSetFile.Type

type Node =
  | { readonly _tag: "text"; readonly text: string }
  | { readonly _tag: "slot"; readonly name: string }
  | { readonly _tag: "list"; readonly name: string }
  | {
      readonly _tag: "section"
      readonly name: string
      readonly inverted: boolean
      readonly body: ReadonlyArray<Node>
    }

export class TemplateSyntaxError extends Schema.TaggedError<TemplateSyntaxError>()("TemplateSyntaxError", {
  message: Schema.String
}) {}

const TOKEN = /\{\{([#^/@]?)([A-Za-z][\w-]*)\}\}/g

/** The template text as a tree; unbalanced sections are errors. */
export const parseTemplateText = (text: string): ReadonlyArray<Node> => {
  const stack: Array<{ name: string; inverted: boolean; body: Array<Node> }> = [
    { name: "", inverted: false, body: [] }
  ]
  let at = 0
  for (const m of text.matchAll(TOKEN)) {
    const top = stack[stack.length - 1]!
    if (m.index > at) top.body.push({ _tag: "text", text: text.slice(at, m.index) })
    at = m.index + m[0].length
    const [, sigil, name] = m as unknown as [string, string, string]
    if (sigil === "") top.body.push({ _tag: "slot", name })
    else if (sigil === "@") top.body.push({ _tag: "list", name })
    else if (sigil === "#" || sigil === "^") stack.push({ name, inverted: sigil === "^", body: [] })
    else {
      if (stack.length === 1 || top.name !== name)
        throw new TemplateSyntaxError({ message: `{{/${name}}} closes no open {{#${name}}} section` })
      stack.pop()
      stack[stack.length - 1]!.body.push({ _tag: "section", name, inverted: top.inverted, body: top.body })
    }
  }
  if (stack.length > 1)
    throw new TemplateSyntaxError({
      message: `section {{#${stack[stack.length - 1]!.name}}} is never closed`
    })
  if (at < text.length) stack[0]!.body.push({ _tag: "text", text: text.slice(at) })
  return stack[0]!.body
}

const joinText = (t: string | ReadonlyArray<string>) => (typeof t === "string" ? t : t.join("\n"))

/** Slot values: strings, or for a list slot the list's elements. */
export type SlotValues = Readonly<Record<string, string | ReadonlyArray<Readonly<Record<string, string>>>>>

export interface CompiledTemplate {
  readonly file: TemplateFile
  readonly nodes: ReadonlyArray<Node>
  readonly items: Readonly<
    Record<string, { readonly nodes: ReadonlyArray<Node>; readonly separator: string }>
  >
  /** The canonical text the template was compiled from (for hashing). */
  readonly source: string
}

const namesIn = (nodes: ReadonlyArray<Node>, out: Set<string> = new Set()): Set<string> => {
  for (const n of nodes) {
    if (n._tag === "slot" || n._tag === "list") out.add(n.name)
    if (n._tag === "section") {
      out.add(n.name)
      namesIn(n.body, out)
    }
  }
  return out
}

/** A template problem: the JSON field it concerns and what is wrong (the caller adds file and line). */
export interface TemplateProblem {
  readonly path: ReadonlyArray<string>
  readonly message: string
}

const slotCheck = (
  nodes: ReadonlyArray<Node>,
  declared: ReadonlyArray<string>,
  path: ReadonlyArray<string>,
  problems: Array<TemplateProblem>
) => {
  const used = namesIn(nodes)
  for (const name of used)
    if (!declared.includes(name)) problems.push({ path, message: `uses {{${name}}}, which is not declared` })
  for (const name of declared)
    if (!used.has(name)) problems.push({ path, message: `declares ${name} but never uses it` })
}

/** Compiles a decoded template file, or lists what is wrong with it. */
export const compileTemplate = (
  file: TemplateFile
): { readonly template: CompiledTemplate } | { readonly problems: ReadonlyArray<TemplateProblem> } => {
  const problems: Array<TemplateProblem> = []
  const parse = (text: string, path: ReadonlyArray<string>): ReadonlyArray<Node> => {
    try {
      return parseTemplateText(text)
    } catch (e) {
      problems.push({ path, message: e instanceof TemplateSyntaxError ? e.message : String(e) })
      return []
    }
  }
  const nodes = parse(joinText(file.text), ["text"])
  const items: Record<string, { nodes: ReadonlyArray<Node>; separator: string }> = {}
  for (const [name, list] of Object.entries(file.lists ?? {})) {
    const itemNodes = parse(joinText(list.item), ["lists", name, "item"])
    slotCheck(itemNodes, list.slots, ["lists", name, "item"], problems)
    items[name] = { nodes: itemNodes, separator: list.separator }
  }
  const lookups = file.lookups ?? {}
  for (const [name, lookup] of Object.entries(lookups))
    if (!file.slots.includes(lookup.from))
      problems.push({ path: ["lookups", name, "from"], message: `names ${lookup.from}, which is not a slot` })
  const declared = [...file.slots, ...Object.keys(items), ...Object.keys(lookups)]
  slotCheck(nodes, declared, ["text"], problems)
  if (problems.length > 0) return { problems }
  return { template: { file, nodes, items, source: JSON.stringify(file) } }
}

const renderNodes = (nodes: ReadonlyArray<Node>, values: SlotValues, t: CompiledTemplate): string => {
  const str = (name: string): string => {
    const lookup = t.file.lookups?.[name]
    if (lookup) {
      const key = values[lookup.from]
      const v = typeof key === "string" ? lookup.values[key] : undefined
      if (v === undefined)
        throw new Error(`template ${t.file.kind}: no ${name} for ${lookup.from}=${String(key)}`)
      return v
    }
    const v = values[name]
    if (typeof v !== "string") throw new Error(`template ${t.file.kind}: slot ${name} has no text value`)
    return v
  }
  return nodes
    .map((n) => {
      switch (n._tag) {
        case "text":
          return n.text
        case "slot":
          return str(n.name)
        case "section": {
          const v = values[n.name]
          const present = typeof v === "string" ? v.length > 0 : v !== undefined && v.length > 0
          return present !== n.inverted ? renderNodes(n.body, values, t) : ""
        }
        case "list": {
          const list = t.items[n.name]!
          const elements = values[n.name]
          if (typeof elements === "string" || elements === undefined)
            throw new Error(`template ${t.file.kind}: list ${n.name} has no elements`)
          return elements.map((e) => renderNodes(list.nodes, e, t)).join(list.separator)
        }
      }
    })
    .join("")
}

/** The request text for the given slot values. */
export const renderTemplate = (t: CompiledTemplate, values: SlotValues): string =>
  renderNodes(t.nodes, values, t)

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

interface Matcher {
  readonly source: string
  /** The slot each capture group fills, in group order. */
  readonly groups: ReadonlyArray<{
    readonly name: string
    readonly lookup?: Readonly<Record<string, string>>
  }>
}

const matcherOf = (nodes: ReadonlyArray<Node>, t: CompiledTemplate): Matcher => {
  const groups: Array<{ name: string; lookup?: Record<string, string> }> = []
  const walk = (ns: ReadonlyArray<Node>): string =>
    ns
      .map((n) => {
        switch (n._tag) {
          case "text":
            return escapeRe(n.text)
          case "slot": {
            const lookup = t.file.lookups?.[n.name]
            if (lookup) {
              // Captured as the key it was chosen by, so the reader gets e.g. the level back.
              groups.push({ name: lookup.from, lookup: lookup.values })
              return `(${Object.values(lookup.values).map(escapeRe).join("|")})`
            }
            groups.push({ name: n.name })
            return "([\\s\\S]*?)"
          }
          case "list":
            groups.push({ name: `@${n.name}` })
            return "([\\s\\S]*?)"
          case "section":
            return `(?:${walk(n.body)})?`
        }
      })
      .join("")
  return { source: walk(nodes), groups }
}

type Parsed = Record<string, string | Array<Record<string, string>>>

const assign = (out: Parsed, m: RegExpMatchArray, matcher: Matcher, t: CompiledTemplate) => {
  matcher.groups.forEach((g, i) => {
    const v = m[i + 1]
    if (v === undefined) return
    if (g.name.startsWith("@")) {
      const name = g.name.slice(1)
      const item = t.items[name]!
      const im = matcherOf(item.nodes, t)
      const elements: Array<Record<string, string>> = []
      // An element's last slot is lazy, so each element runs up to the start of the next one (the
      // separator and the item's leading text) or to the end of the list.
      const lead = item.nodes[0]?._tag === "text" ? item.nodes[0].text : ""
      const bounded = new RegExp(`${im.source}(?=${escapeRe(item.separator + lead)}|$)`, "g")
      for (const em of v.matchAll(bounded)) {
        const e: Parsed = {}
        assign(e, em, im, t)
        elements.push(e as Record<string, string>)
      }
      out[name] = elements
    } else if (g.lookup) {
      const key = Object.entries(g.lookup).find(([, text]) => text === v)?.[0]
      if (key !== undefined && out[g.name] === undefined) out[g.name] = key
    } else if (out[g.name] === undefined || out[g.name] === "") out[g.name] = v
  })
}

const matchers = new WeakMap<CompiledTemplate, { re: RegExp; matcher: Matcher }>()

/**
 * The slot values a request was built from, read back through the template (the inverse of
 * renderTemplate for texts that do not contain the template's own delimiters), or undefined when
 * the request was not built from this template. Slots in a section that is absent read as "".
 */
export const matchTemplate = (t: CompiledTemplate, content: string): Parsed | undefined => {
  let cached = matchers.get(t)
  if (!cached) {
    const matcher = matcherOf(t.nodes, t)
    cached = { re: new RegExp(`^${matcher.source}$`), matcher }
    matchers.set(t, cached)
  }
  const m = cached.re.exec(content)
  if (!m) return undefined
  const out: Parsed = {}
  assign(out, m, cached.matcher, t)
  for (const name of t.file.slots) if (out[name] === undefined) out[name] = ""
  for (const name of Object.keys(t.items)) if (out[name] === undefined) out[name] = []
  return out
}
