import type { Message } from "./LanguageModel.ts"
import {
  compressRequest,
  judgeRequest,
  parseProposalWith,
  parseVerdictWith,
  type ProposeTrace,
  proposeRequest,
  readRequest,
  taggedBlock
} from "./templates/requests.ts"
import { MASPO_TEMPLATES, templateOf } from "./templates/TemplateSet.ts"

/**
 * maspo's own requests (the `maspo` template set, packages/core/templates/maspo) as functions, and
 * the agents' context format. Requests of any set are built and read in templates/requests.ts;
 * these are kept for the callers and tests that speak maspo's wording only.
 */

/** Separator between predecessors' compressed outputs in an agent's context. */
export const CONTEXT_SEPARATOR = "\n---\n"

/** One predecessor's output as it appears in a successor's context: `[agentId] text`. */
export const formatContext = (
  entries: ReadonlyArray<{ readonly agentId: string; readonly text: string }>
): string => entries.map((e) => `[${e.agentId}] ${e.text}`).join(CONTEXT_SEPARATOR)

/** Inverse of formatContext (for the simulator and for tests). */
export const parseContext = (context: string): Array<{ agentId: string; text: string }> =>
  context.trim() === ""
    ? []
    : context.split(CONTEXT_SEPARATOR).flatMap((chunk) => {
        const m = /^\[([^\]\n]+)\] ([\s\S]*)$/.exec(chunk.trim())
        return m ? [{ agentId: m[1]!, text: m[2]! }] : []
      })

export const COMPRESSION_MARKER = "Compress the following agent output"

/** maspo's compression request (the `maspo` template set's `compress`). */
export const compressionMessages = (output: string, maxWords: number): Array<Message> =>
  compressRequest(MASPO_TEMPLATES, output, maxWords).messages

/** The word limit and output of a maspo compression request. */
export const parseCompressionRequest = (
  content: string
): { maxWords: number; output: string } | undefined => {
  const r = readRequest([MASPO_TEMPLATES], content)
  return r?.kind === "compress" ? { maxWords: r.maxWords, output: r.output } : undefined
}

/** Cuts a text to its first n words (the executor enforces the limit whatever the model does). */
export const truncateWords = (text: string, n: number): string => {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0)
  return words.length <= n ? words.join(" ") : words.slice(0, n).join(" ")
}

export type PairwiseLevel = "local" | "lookahead" | "global"

export const PAIRWISE_MARKER = "You are an impartial judge comparing two responses"

export interface PairwiseInput {
  readonly question: string
  readonly level: PairwiseLevel
  readonly a: string
  readonly b: string
  /** The agent's role description, when the comparison is about one agent. */
  readonly agentRole?: string
}

/** maspo's generic judge request (the `maspo` set's `judge-generic`). */
export const pairwiseMessages = (input: PairwiseInput): Array<Message> =>
  judgeRequest(MASPO_TEMPLATES, "judge-generic", input).messages

export const parsePairwiseRequest = (
  content: string
): { question: string; level: PairwiseLevel; a: string; b: string } | undefined => {
  const r = readRequest([MASPO_TEMPLATES], content)
  return r !== undefined && r.kind !== "compress" && r.kind !== "propose"
    ? { question: r.question, level: r.level, a: r.a, b: r.b }
    : undefined
}

/** "A", "B", or undefined when the reply names neither (or both) unambiguously (maspo's rule). */
export const parseVerdict = (reply: string): "A" | "B" | undefined => {
  const v = parseVerdictWith(templateOf(MASPO_TEMPLATES, "judge-generic").file.reply, reply)
  return v === "candidate" ? undefined : v
}

export const REFINE_MARKER = "You are optimizing the prompt of one agent in a multi-agent system"

export type RefineTrace = ProposeTrace

export interface RefineInput {
  readonly agentRole: string
  readonly prompt: string
  readonly traces: ReadonlyArray<RefineTrace>
}

/** maspo's proposal request (the `maspo` set's `propose`). */
export const refineMessages = (input: RefineInput): Array<Message> =>
  proposeRequest(MASPO_TEMPLATES, input).messages

export const parseRefineRequest = (
  content: string
): { agentRole: string; prompt: string; traces: Array<RefineTrace> } | undefined => {
  const r = readRequest([MASPO_TEMPLATES], content)
  return r?.kind === "propose"
    ? { agentRole: r.agentRole, prompt: r.prompt, traces: [...r.traces] }
    : undefined
}

/** The last occurrence of `<tag>...</tag>` in a text, trimmed. */
export const lastTagged = (text: string, tag: string): string | undefined => taggedBlock(text, tag)

export interface RefineReply {
  readonly analysis: string
  readonly modification: string
  readonly newPrompt: string
}

export const parseRefineReply = (reply: string): RefineReply | undefined => {
  const r = parseProposalWith(templateOf(MASPO_TEMPLATES, "propose").file.reply, reply, "")
  return r && { analysis: r.analysis, modification: r.modification, newPrompt: r.newPrompt }
}
