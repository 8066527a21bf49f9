import type { Message } from "../LanguageModel.ts"
import { type CompiledTemplate, matchTemplate, type ReplyFormat, renderTemplate } from "./Template.ts"
import { templateOf, type TemplateSet } from "./TemplateSet.ts"

/**
 * Requests built from a template set, and their replies parsed by the rules the template declares.
 * The executor, judge and refiner build here; the simulator reads requests back through the same
 * templates (`readRequest`), so a set's wording can never drift from what the simulator understands.
 */

/**
 * A request: its messages and the sampling settings the template asks for (absent: the role's; a
 * provider config's own temperature or max tokens take precedence, see LanguageModel).
 */
export interface BuiltRequest {
  readonly messages: Array<Message>
  readonly templateTemperature?: number
  readonly templateMaxTokens?: number
}

const built = (t: CompiledTemplate, content: string): BuiltRequest => ({
  messages: [{ role: "user", content }],
  ...(t.file.temperature !== undefined ? { templateTemperature: t.file.temperature } : {}),
  ...(t.file.maxTokens !== undefined ? { templateMaxTokens: t.file.maxTokens } : {})
})

export const compressRequest = (set: TemplateSet, output: string, maxWords: number): BuiltRequest => {
  const t = templateOf(set, "compress")
  return built(t, renderTemplate(t, { output, maxWords: String(maxWords) }))
}

export type JudgeKind = "judge-generic" | "judge-intermediate" | "judge-final" | "judge-answer"
export type JudgeLevel = "local" | "lookahead" | "global"

export interface JudgeInput {
  readonly question: string
  readonly level: JudgeLevel
  /** The text shown as A and the one shown as B. */
  readonly a: string
  readonly b: string
  readonly agentRole?: string
  readonly agentType?: string
  /** The task's answer requirement (its answer-format instruction). */
  readonly requirement?: string
}

export const judgeRequest = (set: TemplateSet, kind: JudgeKind, input: JudgeInput): BuiltRequest => {
  const t = templateOf(set, kind)
  const strip = t.file.trimValues === true
  const text = (s: string) => (strip ? s.trim() : s)
  return built(
    t,
    renderTemplate(t, {
      question: strip ? input.question.trim() : input.question,
      level: input.level,
      a: text(input.a),
      b: text(input.b),
      agentRole: input.agentRole ?? "",
      agentType: input.agentType ?? "",
      requirement: input.requirement ?? ""
    })
  )
}

/** The last (or first) `<tag>...</tag>` block of a text, trimmed. */
export const taggedBlock = (
  text: string,
  tag: string,
  occurrence: "first" | "last" = "last",
  closingOptional = false
): string | undefined => {
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g")
  const all = [...text.matchAll(re)].map((m) => m[1]!.trim())
  if (all.length > 0) return occurrence === "first" ? all[0] : all[all.length - 1]
  if (!closingOptional) return undefined
  const open = text.indexOf(`<${tag}>`)
  return open < 0 ? undefined : text.slice(open + tag.length + 2).trim()
}

/**
 * A verdict: the letter shown, or `candidate` when the template's rule counts a reply as the
 * candidate's win whatever its position (the released rule for a reply without letters); undefined
 * when the reply names neither.
 */
export type Verdict = "A" | "B" | "candidate" | undefined

const maspoLetter = (reply: string, tag: string): Verdict => {
  const tagged = new RegExp(`<${tag}>\\s*([AB])\\s*</${tag}>`, "i").exec(reply)
  if (tagged) return tagged[1]!.toUpperCase() as "A" | "B"
  const lone = /^\(?([AB])\)?\.?$/i.exec(reply.trim())
  if (lone) return lone[1]!.toUpperCase() as "A" | "B"
  const tokens = reply.match(/\b[AB]\b/g) ?? []
  if (new Set(tokens).size === 1) return tokens[0] as "A" | "B"
  // Replies like "Response A is better than response B": take the first mention.
  const first = /\b(?:response|answer|output)\s+([AB])\b/i.exec(reply)
  return first ? (first[1]!.toUpperCase() as "A" | "B") : undefined
}

const lastLetter = (reply: string, tag: string): Verdict => {
  const open = reply.indexOf(`<${tag}>`)
  const close = open < 0 ? -1 : reply.indexOf(`</${tag}>`, open)
  if (open >= 0 && close >= 0) return reply.slice(open + tag.length + 2, close).includes("A") ? "A" : "B"
  const letters = reply.trim().toUpperCase().match(/\p{L}/gu)
  if (!letters) return "candidate"
  return letters[letters.length - 1] === "A" ? "A" : "B"
}

export const parseVerdictWith = (format: ReplyFormat | undefined, reply: string): Verdict =>
  format?.verdictRule === "tag-else-last-letter"
    ? lastLetter(reply, format.verdictTag ?? "choose")
    : maspoLetter(reply, format?.verdictTag ?? "verdict")

export interface ProposeTrace {
  readonly question: string
  readonly context: string
  readonly output: string
  /** Downstream feedback for misalignment cases (shown only by sets whose traces have the slot). */
  readonly feedback?: string
}

export interface ProposeInput {
  readonly agentRole: string
  readonly agentType?: string
  readonly requirement?: string
  readonly prompt: string
  readonly traces: ReadonlyArray<ProposeTrace>
}

export const proposeRequest = (set: TemplateSet, input: ProposeInput): BuiltRequest => {
  const t = templateOf(set, "propose")
  const strip = t.file.trimValues === true
  const s = (x: string) => (strip ? x.trim() : x)
  return built(
    t,
    renderTemplate(t, {
      agentRole: input.agentRole,
      agentType: input.agentType ?? "",
      requirement: input.requirement ?? "",
      prompt: input.prompt,
      traces: input.traces.map((tr, i) => ({
        index: String(i + 1),
        question: s(tr.question),
        context: s(tr.context),
        output: s(tr.output),
        feedback: tr.feedback ?? ""
      }))
    })
  )
}

export interface ProposalReply {
  readonly analysis: string
  readonly modification: string
  readonly newPrompt: string
  /** The reply had no new prompt and the template keeps the old one. */
  readonly keptOldPrompt: boolean
}

/** The new prompt a reply proposes, by the template's reply format; undefined = no candidate. */
export const parseProposalWith = (
  format: ReplyFormat | undefined,
  reply: string,
  oldPrompt: string
): ProposalReply | undefined => {
  const tag = format?.promptTag ?? "new_prompt"
  const found = taggedBlock(
    reply,
    tag,
    format?.promptOccurrence ?? "last",
    format?.closingTagOptional ?? false
  )
  const analysis = taggedBlock(reply, format?.analysisTag ?? "analysis") ?? ""
  const modification = taggedBlock(reply, format?.modificationTag ?? "modification") ?? ""
  if (found === undefined || found.length === 0)
    return format?.unparsable === "keep-old-prompt"
      ? { analysis, modification, newPrompt: oldPrompt, keptOldPrompt: true }
      : undefined
  return { analysis, modification, newPrompt: found, keptOldPrompt: false }
}

/** A request read back through a set: its kind and slot values (what the simulator answers from). */
export type ReadRequest =
  | {
      readonly kind: "compress"
      readonly template: CompiledTemplate
      readonly output: string
      readonly maxWords: number
    }
  | {
      readonly kind: JudgeKind
      readonly template: CompiledTemplate
      readonly question: string
      readonly level: JudgeLevel
      readonly a: string
      readonly b: string
    }
  | {
      readonly kind: "propose"
      readonly template: CompiledTemplate
      readonly agentRole: string
      readonly prompt: string
      readonly traces: ReadonlyArray<ProposeTrace>
    }

const LEVEL_OF: Record<Exclude<JudgeKind, "judge-generic">, JudgeLevel> = {
  "judge-intermediate": "local",
  "judge-final": "global",
  "judge-answer": "global"
}

/**
 * The first template of the given sets that the content was built from, read back; undefined for
 * anything else (an agent message).
 */
export const readRequest = (sets: ReadonlyArray<TemplateSet>, content: string): ReadRequest | undefined => {
  for (const set of sets)
    for (const t of Object.values(set.templates)) {
      const v = matchTemplate(t, content)
      if (!v) continue
      const str = (k: string) => (typeof v[k] === "string" ? (v[k] as string) : "")
      const kind = t.file.kind
      if (kind === "compress") {
        const maxWords = Number(str("maxWords"))
        if (!Number.isSafeInteger(maxWords) || maxWords < 1) continue
        return { kind, template: t, output: str("output"), maxWords }
      }
      if (kind === "propose") {
        const traces = (Array.isArray(v["traces"]) ? v["traces"] : []).map((e) => ({
          question: e["question"] ?? "",
          context: e["context"] ?? "",
          output: e["output"] ?? "",
          ...(e["feedback"] ? { feedback: e["feedback"] } : {})
        }))
        return { kind, template: t, agentRole: str("agentRole"), prompt: str("prompt"), traces }
      }
      const level = kind === "judge-generic" ? (str("level") as JudgeLevel) : LEVEL_OF[kind]
      if (!["local", "lookahead", "global"].includes(level)) continue
      return { kind, template: t, question: str("question"), level, a: str("a"), b: str("b") }
    }
  return undefined
}
