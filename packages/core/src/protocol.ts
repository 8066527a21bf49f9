import type { Message } from "./LanguageModel.ts"

/**
 * The wording of every request maspo itself writes (compression, pairwise judging, prompt
 * refinement) and the parsers for the replies. The executor, evaluators and refiner build their
 * requests here, and the embedded simulator recognises them by the same markers, so the two can
 * never drift apart. Agent prompts are free text and are not described here.
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

export const compressionMessages = (output: string, maxWords: number): Array<Message> => [
  {
    role: "user",
    content:
      `${COMPRESSION_MARKER} into a summary of at most ${maxWords} words. ` +
      `Keep the final answer and any intermediate results that are stated explicitly. ` +
      `Reply with the summary only.\n\n<output>\n${output}\n</output>`
  }
]

/** The word limit a compression request asks for. */
export const parseCompressionRequest = (
  content: string
): { maxWords: number; output: string } | undefined => {
  if (!content.startsWith(COMPRESSION_MARKER)) return undefined
  const words = /at most (\d+) words/.exec(content)
  const out = /<output>\n([\s\S]*)\n<\/output>$/.exec(content)
  if (!words || !out) return undefined
  return { maxWords: Number(words[1]), output: out[1]! }
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

const criterionText: Record<PairwiseLevel, string> = {
  local: "Judge which response is the better output of this agent for the task.",
  lookahead: "Both responses come from the next agent in the pipeline. Judge which one is better.",
  global: "Both responses are final answers of the whole system. Judge which final answer is better."
}

export interface PairwiseInput {
  readonly question: string
  readonly level: PairwiseLevel
  readonly a: string
  readonly b: string
  /** The agent's role description, when the comparison is about one agent. */
  readonly agentRole?: string
}

export const pairwiseMessages = (input: PairwiseInput): Array<Message> => [
  {
    role: "user",
    content:
      `${PAIRWISE_MARKER} to the same task.\n` +
      (input.agentRole ? `Agent role: ${input.agentRole}\n` : "") +
      `Level: ${input.level}\n\n<task>\n${input.question}\n</task>\n\n` +
      `<response_a>\n${input.a}\n</response_a>\n\n<response_b>\n${input.b}\n</response_b>\n\n` +
      `${criterionText[input.level]} Consider correctness first, then usefulness. ` +
      `Reply with a single letter: A if response A is better, B if response B is better.`
  }
]

export const parsePairwiseRequest = (
  content: string
): { question: string; level: PairwiseLevel; a: string; b: string } | undefined => {
  if (!content.startsWith(PAIRWISE_MARKER)) return undefined
  const level = /\nLevel: (local|lookahead|global)\n/.exec(content)
  const q = /<task>\n([\s\S]*?)\n<\/task>/.exec(content)
  const a = /<response_a>\n([\s\S]*?)\n<\/response_a>/.exec(content)
  const b = /<response_b>\n([\s\S]*?)\n<\/response_b>/.exec(content)
  if (!level || !q || !a || !b) return undefined
  return { level: level[1] as PairwiseLevel, question: q[1]!, a: a[1]!, b: b[1]! }
}

/** "A", "B", or undefined when the reply names neither (or both) unambiguously. */
export const parseVerdict = (reply: string): "A" | "B" | undefined => {
  const tagged = /<verdict>\s*([AB])\s*<\/verdict>/i.exec(reply)
  if (tagged) return tagged[1]!.toUpperCase() as "A" | "B"
  const lone = /^\(?([AB])\)?\.?$/i.exec(reply.trim())
  if (lone) return lone[1]!.toUpperCase() as "A" | "B"
  const tokens = reply.match(/\b[AB]\b/g) ?? []
  const distinct = new Set(tokens)
  if (distinct.size === 1) return tokens[0] as "A" | "B"
  // Replies like "Response A is better than response B": take the first mention.
  const first = /\b(?:response|answer|output)\s+([AB])\b/i.exec(reply)
  return first ? (first[1]!.toUpperCase() as "A" | "B") : undefined
}

export const REFINE_MARKER = "You are optimizing the prompt of one agent in a multi-agent system"

export interface RefineTrace {
  readonly question: string
  readonly context: string
  readonly output: string
  /** Downstream feedback for misalignment cases: what happened after this output. */
  readonly feedback?: string
}

export interface RefineInput {
  readonly agentRole: string
  readonly prompt: string
  readonly traces: ReadonlyArray<RefineTrace>
}

export const refineMessages = (input: RefineInput): Array<Message> => {
  const traces = input.traces
    .map(
      (t, i) =>
        `<trace index="${i + 1}">\n<question>\n${t.question}\n</question>\n<context>\n${t.context}\n</context>\n` +
        `<output>\n${t.output}\n</output>\n` +
        (t.feedback ? `<feedback>\n${t.feedback}\n</feedback>\n` : "") +
        `</trace>`
    )
    .join("\n")
  return [
    {
      role: "user",
      content:
        `${REFINE_MARKER}.\nAgent role: ${input.agentRole}\n\n` +
        `<current_prompt>\n${input.prompt}\n</current_prompt>\n\n` +
        `Here are execution traces of this agent: the question, the context it received from ` +
        `upstream agents, and its output.\n\n${traces}\n\n` +
        `Analyse the weaknesses these traces show, then improve the prompt. Reply with ` +
        `<analysis>your analysis</analysis>, <modification>one line describing the change</modification> ` +
        `and <new_prompt>the complete new prompt</new_prompt>. The new prompt must keep the ` +
        `placeholders {question} and {context} exactly once each.`
    }
  ]
}

export const parseRefineRequest = (
  content: string
): { agentRole: string; prompt: string; traces: Array<RefineTrace> } | undefined => {
  if (!content.startsWith(REFINE_MARKER)) return undefined
  const role = /\nAgent role: ([^\n]*)\n/.exec(content)
  const prompt = /<current_prompt>\n([\s\S]*?)\n<\/current_prompt>/.exec(content)
  if (!role || !prompt) return undefined
  const traces: Array<RefineTrace> = []
  const re =
    /<trace index="\d+">\n<question>\n([\s\S]*?)\n<\/question>\n<context>\n([\s\S]*?)\n<\/context>\n<output>\n([\s\S]*?)\n<\/output>\n(?:<feedback>\n([\s\S]*?)\n<\/feedback>\n)?<\/trace>/g
  for (const m of content.matchAll(re)) {
    traces.push({ question: m[1]!, context: m[2]!, output: m[3]!, ...(m[4] ? { feedback: m[4] } : {}) })
  }
  return { agentRole: role[1]!, prompt: prompt[1]!, traces }
}

/** The last occurrence of `<tag>...</tag>` in a text, trimmed. */
export const lastTagged = (text: string, tag: string): string | undefined => {
  const re = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g")
  let last: string | undefined
  for (const m of text.matchAll(re)) last = m[1]!.trim()
  return last
}

export interface RefineReply {
  readonly analysis: string
  readonly modification: string
  readonly newPrompt: string
}

export const parseRefineReply = (reply: string): RefineReply | undefined => {
  const newPrompt = lastTagged(reply, "new_prompt")
  if (newPrompt === undefined || newPrompt.length === 0) return undefined
  return {
    analysis: lastTagged(reply, "analysis") ?? "",
    modification: lastTagged(reply, "modification") ?? "",
    newPrompt
  }
}
