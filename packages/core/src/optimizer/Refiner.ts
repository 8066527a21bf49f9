import { Context, Effect, Layer } from "effect"
import { LanguageModel, type ModelCallError } from "../LanguageModel.ts"
import type { RefineTrace } from "../protocol.ts"
import { parseProposalWith, proposeRequest } from "../templates/requests.ts"
import { RequestTemplates, templateOf } from "../templates/TemplateSet.ts"
import { restoreMissingSlots, slotProblems } from "../Slots.ts"

export interface RefineRequest {
  readonly agentId: string
  readonly agentRole: string
  /** The task's answer requirement, for template sets that show one (the paper's). */
  readonly requirement?: string
  readonly prompt: string
  /** The agent's traces on the batch (question, received context, output, optional feedback). */
  readonly traces: ReadonlyArray<RefineTrace>
  /** Children to propose (K_sub): one optimizer call per part of the batch. */
  readonly children: number
}

export interface Proposal {
  readonly prompt: string
  readonly analysis: string
  readonly modification: string
}

export interface RefineOutcome {
  readonly proposals: ReadonlyArray<Proposal>
  /** Replies that produced no usable prompt, with the reason (logged, not fatal). */
  readonly rejected: ReadonlyArray<{ readonly reason: string; readonly prompt?: string }>
  /**
   * Replies that fell back to the parent's prompt or equal it (not those duplicating a sibling): the
   * released search adds a copy of the parent to the beam for each.
   */
  readonly parentCopies: number
}

export interface RefinerOptions {
  /** Our slot rule (default); off, the released brace rule (`releasedSanitize`). */
  readonly latexAwareSlots: boolean
}

/** Why a proposed prompt cannot be used, or the sanitised prompt. */
export const sanitizeProposal = (
  prompt: string
): { ok: true; prompt: string } | { ok: false; reason: string } => {
  const p = slotProblems(prompt)
  if (p.unknown.length > 0) return { ok: false, reason: `unknown slot {${p.unknown[0]}}` }
  if (p.duplicated.length > 0) return { ok: false, reason: `duplicated slot {${p.duplicated[0]}}` }
  return { ok: true, prompt: restoreMissingSlots(prompt.trim()) }
}

const RELEASED_FIELD = /^(question|context|\d*)$/

/**
 * The released code's brace rule: runs of braces collapse to one; any `{...}` other than
 * `{question}`, `{context}`, digits or empty makes the proposal fall back to the parent, as does a
 * repeated slot; a missing `{question}` is appended, a missing `{context}` only if the parent had one.
 */
export const releasedSanitize = (
  prompt: string,
  parent: string
): { ok: true; prompt: string } | { ok: false; reason: string } => {
  const text = prompt.trim().replace(/\{+/g, "{").replace(/\}+/g, "}")
  const fields = [...text.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!)
  const other = fields.find((f) => !RELEASED_FIELD.test(f))
  if (other !== undefined) return { ok: false, reason: `brace expression {${other}}` }
  const count = (name: string) => fields.filter((f) => f === name).length
  if (count("question") > 1) return { ok: false, reason: "duplicated slot {question}" }
  if (count("context") > 1) return { ok: false, reason: "duplicated slot {context}" }
  let out = text
  if (count("question") === 0) out = `${out}\n\nQuestion:\n{question}`
  if (count("context") === 0 && /\{context\}/.test(parent)) out = `${out}\n\nContext:\n{context}`
  return { ok: true, prompt: out }
}

/** Splits a batch into `parts` contiguous, nearly equal parts (none empty when possible). */
export const splitBatch = <A>(items: ReadonlyArray<A>, parts: number): Array<Array<A>> => {
  const n = Math.max(1, Math.min(parts, items.length))
  return Array.from({ length: n }, (_, i) =>
    items.slice(Math.floor((i * items.length) / n), Math.floor(((i + 1) * items.length) / n))
  )
}

/** Proposes new prompts for one agent from its traces. */
export class Refiner extends Context.Service<
  Refiner,
  { readonly propose: (request: RefineRequest) => Effect.Effect<RefineOutcome, ModelCallError> }
>()("@maspo/core/Refiner") {
  /**
   * MASPO's refiner: the optimizer LLM reads one part of the batch per child and answers with an
   * analysis, a one-line modification and a new prompt. Candidates are sanitised and deduplicated
   * (against each other and against the parent).
   */
  static readonly layerWith = (options: RefinerOptions) =>
    Layer.effect(
      Refiner,
      Effect.gen(function* () {
        const lm = yield* LanguageModel
        const templates = yield* RequestTemplates
        const format = templateOf(templates, "propose").file.reply
        const tag = format?.promptTag ?? "new_prompt"
        const propose = Effect.fn("Refiner.propose")(function* (request: RefineRequest) {
          const parts = splitBatch(request.traces, request.children)
          const replies = yield* Effect.forEach(
            parts,
            (traces, i) =>
              lm.generate("optimizer", {
                ...proposeRequest(templates, {
                  agentRole: request.agentRole,
                  // Our topologies have no agent types: an agent's id names its type.
                  agentType: request.agentId,
                  ...(request.requirement !== undefined ? { requirement: request.requirement } : {}),
                  prompt: request.prompt,
                  traces
                }),
                sampleIndex: i
              }),
            { concurrency: "unbounded" }
          )
          const proposals: Array<Proposal> = []
          const rejected: Array<{ reason: string; prompt?: string }> = []
          const seen = new Set([request.prompt.trim()])
          let parentCopies = 0
          for (const reply of replies) {
            const parsed = parseProposalWith(format, reply.text, request.prompt)
            if (!parsed) {
              rejected.push({ reason: `no <${tag}> block in the reply` })
              parentCopies++
              continue
            }
            if (parsed.keptOldPrompt) {
              // The set's rule for an unparsable reply: the parent's prompt, i.e. no new candidate.
              rejected.push({
                reason: `no <${tag}> block in the reply: the old prompt is kept`,
                prompt: request.prompt
              })
              parentCopies++
              continue
            }
            const clean = options.latexAwareSlots
              ? sanitizeProposal(parsed.newPrompt)
              : releasedSanitize(parsed.newPrompt, request.prompt)
            if (!clean.ok) {
              rejected.push({ reason: clean.reason, prompt: parsed.newPrompt })
              parentCopies++
              continue
            }
            if (clean.prompt.trim() === request.prompt.trim()) parentCopies++
            if (seen.has(clean.prompt.trim())) {
              rejected.push({ reason: "duplicate of the parent or of another child", prompt: clean.prompt })
              continue
            }
            seen.add(clean.prompt.trim())
            proposals.push({
              prompt: clean.prompt,
              analysis: parsed.analysis,
              modification: parsed.modification
            })
          }
          return { proposals, rejected, parentCopies }
        })
        return Refiner.of({ propose })
      })
    )

  static readonly layer = Refiner.layerWith({ latexAwareSlots: true })
}
