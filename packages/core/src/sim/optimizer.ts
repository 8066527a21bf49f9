import { sha256Hex } from "../canonical.ts"
import type { RefineTrace } from "../protocol.ts"
import type { ReadRequest } from "../templates/requests.ts"
import { unitFromParts } from "../random.ts"
import {
  DIRECTIVE_BY_ID,
  DIRECTIVES,
  type DirectiveId,
  directivesOf,
  directiveSentence,
  normalizeText
} from "./directives.ts"
import { chainValues, extractArith, parseProblem } from "./items.ts"
import { majorityAnswer, type SimParams } from "./model.ts"
import { contextSummaries, parseSummary } from "./agent.ts"

/**
 * The optimizer role. It reads the traces in its request the way a diligent LLM would: visible
 * failure patterns map to directives that address them; outputs that are right but long tempt it to
 * ask for terse answers (the lure a local judge rewards); with small probabilities it adds a random
 * catalogue directive, harmful or irrelevant ones included, or drops one. It edits the prompt text
 * sentence by sentence, with random paraphrases, and never touches {question} or {context}.
 */

type Weights = Map<DirectiveId, number>

const bump = (w: Weights, id: DirectiveId, by: number) => w.set(id, (w.get(id) ?? 0) + by)

interface Reading {
  readonly add: Weights
  readonly notes: Array<string>
}

const readTraces = (traces: ReadonlyArray<RefineTrace>, params: SimParams): Reading => {
  const add: Weights = new Map()
  const notes: Array<string> = []
  let wrong = 0
  for (const t of traces) {
    const problem = parseProblem(t.question)
    if (!problem) continue
    const gold = String(chainValues(problem).at(-1))
    const answer = extractArith(t.output)
    const correct = answer === gold
    if (!correct) wrong++
    const hasTags = /<answer>/.test(t.output)
    const proposals = contextSummaries(t.context)
      .map((text) => parseSummary(text))
      .filter((p) => p.answer !== undefined)
    if (!hasTags) bump(add, "answer_tags", 0.5)
    if (proposals.length > 0) {
      const proposed = majorityAnswer(proposals)
      if (proposed === gold && !correct) bump(add, "change_only_if_error", 1)
      if (proposed !== gold && answer === proposed) bump(add, "recompute", 1)
      if (t.feedback) bump(add, "change_only_if_error", 0.5)
    } else {
      if (!correct && !/check:/.test(t.output)) bump(add, "check_steps", 1)
      if (!correct && !/^Step \d+:/m.test(t.output)) bump(add, "step_by_step", 1)
      // An LLM optimizer also asks for visible intermediate values when answers go wrong.
      if (!correct && !/Intermediate results:/.test(t.output)) bump(add, "state_intermediate", 0.5)
      if (t.feedback) bump(add, "state_intermediate", 2)
      if (correct && t.output.split("\n").length > 2) bump(add, "final_only", 0.3 * params.lureWeight)
    }
  }
  notes.push(`${wrong} of ${traces.length} traces end with a wrong answer.`)
  if (traces.some((t) => t.feedback))
    notes.push("Some traces carry downstream feedback: this output hurt a successor.")
  return { add, notes }
}

const CONFLICTS: ReadonlyArray<readonly [DirectiveId, DirectiveId]> = [
  ["state_intermediate", "final_only"],
  ["step_by_step", "final_only"],
  ["change_only_if_error", "always_improve"]
]

const pickWeighted = (w: Weights, u: number): DirectiveId | undefined => {
  const entries = [...w.entries()].filter(([, v]) => v > 0)
  const total = entries.reduce((s, [, v]) => s + v, 0)
  let acc = 0
  for (const [id, v] of entries) {
    acc += v / total
    if (u < acc) return id
  }
  return entries.at(-1)?.[0]
}

/** The prompt without the sentences that state any of the given directives. */
export const removeDirectives = (prompt: string, ids: ReadonlyArray<DirectiveId>): string => {
  const phrases = ids.flatMap((id) => DIRECTIVE_BY_ID.get(id)!.paraphrases.map(normalizeText))
  const keep = (sentence: string) => {
    const n = ` ${normalizeText(sentence)} `
    return sentence.includes("{") || !phrases.some((p) => n.includes(` ${p} `))
  }
  return prompt
    .split("\n")
    .flatMap((line) => {
      const sentences = line.match(/[^.!?]+[.!?]*\s*/g) ?? [line]
      const kept = sentences.filter(keep)
      if (kept.length === sentences.length) return [line]
      // A line whose every sentence went is dropped rather than left blank.
      return kept.length === 0 ? [] : [kept.join("").trimEnd()]
    })
    .join("\n")
}

/** The prompt with directive sentences added just before the part that holds the question. */
export const addDirectives = (prompt: string, sentences: ReadonlyArray<string>): string => {
  if (sentences.length === 0) return prompt
  const lines = prompt.split("\n")
  const at = lines.findIndex((l) => l.includes("{question}"))
  // Insert above the block that introduces the question (its heading line, if any).
  const before = at <= 0 ? 0 : lines[at - 1]!.trim().endsWith(":") ? at - 1 : at
  const insertAt = at < 0 ? lines.length : Math.max(0, before)
  const text = sentences.join(" ")
  const out = [...lines]
  if (insertAt > 0 && out[insertAt - 1]!.trim() !== "")
    out[insertAt - 1] = `${out[insertAt - 1]!.trimEnd()} ${text}`
  else out.splice(insertAt, 0, text)
  return out.join("\n")
}

export const optimizerReply = (
  request: Extract<ReadRequest, { kind: "propose" }>,
  content: string,
  seed: number,
  sampleIndex: number,
  params: SimParams
): string => {
  const u = (purpose: string) =>
    unitFromParts("sim-optimizer", seed, sampleIndex, sha256Hex(content), purpose)
  const present = new Set(directivesOf(request.prompt))
  const { add, notes } = readTraces(request.traces, params)
  for (const id of present) add.delete(id)
  const absent = DIRECTIVES.map((d) => d.id).filter((id) => !present.has(id))
  const additions: Array<DirectiveId> = []
  const choose = (k: number) => {
    const weights: Weights = new Map([...add].filter(([id]) => !additions.includes(id)))
    const pool = absent.filter((id) => !additions.includes(id))
    const pick =
      u(`noise-${k}`) < params.optimizerNoise || weights.size === 0
        ? pool[Math.floor(u(`random-${k}`) * pool.length)]
        : pickWeighted(weights, u(`pick-${k}`))
    if (pick) additions.push(pick)
  }
  choose(0)
  if (u("second") < 0.3) choose(1)
  const removals: Array<DirectiveId> = []
  for (const id of additions)
    for (const [a, b] of CONFLICTS) {
      if (id === a && present.has(b)) removals.push(b)
      if (id === b && present.has(a)) removals.push(a)
    }
  const droppable = [...present].filter((id) => !removals.includes(id))
  if (droppable.length > 0 && u("drop") < params.optimizerDrop)
    removals.push(droppable[Math.floor(u("drop-which") * droppable.length)]!)
  const sentences = additions.map((id) =>
    directiveSentence(id, Math.floor(u(`para-${id}`) * DIRECTIVE_BY_ID.get(id)!.paraphrases.length))
  )
  const newPrompt = addDirectives(removeDirectives(request.prompt, removals), sentences)
  const modification = [
    ...additions.map((id) => `added "${id}"`),
    ...removals.map((id) => `removed "${id}"`)
  ].join("; ")
  // In the tags the template asks for.
  const format = request.template.file.reply
  const tag = (name: string | undefined, fallback: string) => name ?? fallback
  const analysis = tag(format?.analysisTag, "analysis")
  const change = tag(format?.modificationTag, "modification")
  const prompt = tag(format?.promptTag, "new_prompt")
  return (
    `<${analysis}>${notes.join(" ")}</${analysis}>\n` +
    `<${change}>${modification || "rephrased"}</${change}>\n` +
    `<${prompt}>\n${newPrompt}\n</${prompt}>`
  )
}
