import { Context, Layer, Schema } from "effect"
import { sha256Hex } from "../canonical.ts"
import maspoCompress from "../../templates/maspo/compress.json" with { type: "json" }
import maspoJudgeGeneric from "../../templates/maspo/judge-generic.json" with { type: "json" }
import maspoPropose from "../../templates/maspo/propose.json" with { type: "json" }
import maspoSet from "../../templates/maspo/set.json" with { type: "json" }
import paperCompress from "../../templates/paper/compress.json" with { type: "json" }
import paperJudgeAnswer from "../../templates/paper/judge-answer.json" with { type: "json" }
import paperJudgeFinal from "../../templates/paper/judge-final.json" with { type: "json" }
import paperJudgeIntermediate from "../../templates/paper/judge-intermediate.json" with { type: "json" }
import paperPropose from "../../templates/paper/propose.json" with { type: "json" }
import paperSet from "../../templates/paper/set.json" with { type: "json" }
import {
  type CompiledTemplate,
  compileTemplate,
  REQUEST_KINDS,
  type RequestKind,
  TemplateFile,
  type TemplateProblem,
  TemplateSetFile
} from "./Template.ts"

/** The templates one run builds its requests from: one per request kind the set provides. */
export interface TemplateSet {
  readonly name: string
  readonly agentMaxTokens?: number
  readonly templates: Readonly<Partial<Record<RequestKind, CompiledTemplate>>>
}

/** Why a raw template value is unusable (schema problems and template problems alike). */
export const templateProblems = (
  raw: unknown
): { readonly template: CompiledTemplate } | { readonly problems: ReadonlyArray<TemplateProblem> } => {
  const decoded = Schema.decodeUnknownExit(TemplateFile)(raw, { onExcessProperty: "error", errors: "all" })
  if (decoded._tag === "Failure") return { problems: [{ path: [], message: String(decoded.cause) }] }
  return compileTemplate(decoded.value)
}

/** A template shipped with maspo; a broken one is a bug of ours, reported as loudly as possible. */
const shipped = (file: string, raw: unknown): CompiledTemplate => {
  const r = templateProblems(raw)
  if ("problems" in r)
    throw new Error(`${file}: ${r.problems.map((p) => `${p.path.join(".")}: ${p.message}`).join("; ")}`)
  return r.template
}

const shippedSet = (dir: string, set: unknown, files: Record<string, unknown>): TemplateSet => {
  const meta = Schema.decodeUnknownSync(TemplateSetFile)(set, { onExcessProperty: "error" })
  const templates: Partial<Record<RequestKind, CompiledTemplate>> = {}
  for (const [name, raw] of Object.entries(files)) {
    const t = shipped(`packages/core/templates/${dir}/${name}.json`, raw)
    templates[t.file.kind] = t
  }
  return {
    name: meta.set,
    ...(meta.agentMaxTokens !== undefined ? { agentMaxTokens: meta.agentMaxTokens } : {}),
    templates
  }
}

export const MASPO_TEMPLATES: TemplateSet = shippedSet("maspo", maspoSet, {
  compress: maspoCompress,
  "judge-generic": maspoJudgeGeneric,
  propose: maspoPropose
})

export const PAPER_TEMPLATES: TemplateSet = shippedSet("paper", paperSet, {
  compress: paperCompress,
  "judge-intermediate": paperJudgeIntermediate,
  "judge-final": paperJudgeFinal,
  "judge-answer": paperJudgeAnswer,
  propose: paperPropose
})

export const SHIPPED_TEMPLATE_SETS: Readonly<Record<string, TemplateSet>> = {
  maspo: MASPO_TEMPLATES,
  paper: PAPER_TEMPLATES
}

/** The set with some kinds replaced (a run config's per-kind overrides). */
export const withOverrides = (set: TemplateSet, overrides: ReadonlyArray<CompiledTemplate>): TemplateSet =>
  overrides.length === 0
    ? set
    : {
        ...set,
        templates: { ...set.templates, ...Object.fromEntries(overrides.map((t) => [t.file.kind, t])) }
      }

/** The request kinds a run needs from its set: the judge's by-level kinds or the generic one. */
export const neededKinds = (singleJudgeRequest: boolean, pairwise: boolean): ReadonlyArray<RequestKind> => [
  "compress",
  "propose",
  ...(pairwise
    ? singleJudgeRequest
      ? (["judge-generic"] as const)
      : (["judge-intermediate", "judge-final", "judge-answer"] as const)
    : [])
]

/** Whether the set's proposal request shows a trace's downstream feedback (what `caseFeedbackNote` adds). */
export const showsFeedback = (set: TemplateSet): boolean =>
  Object.values(set.templates.propose?.file.lists ?? {}).some((l) => l.slots.includes("feedback"))

export const missingKinds = (set: TemplateSet, kinds: ReadonlyArray<RequestKind>): Array<RequestKind> =>
  kinds.filter((k) => set.templates[k] === undefined)

/**
 * What a run records about its templates: the set's name and a hash over every template's content,
 * in kind order, so a changed template (even one kind overridden by a file) shows in the manifest.
 */
export const templateSetHash = (set: TemplateSet): string =>
  sha256Hex(
    JSON.stringify(
      REQUEST_KINDS.flatMap((k) => {
        const t = set.templates[k]
        return t ? [[k, t.source]] : []
      })
    )
  ).slice(0, 16)

/** The template set requests are built from; maspo's own unless a run provides another. */
export const RequestTemplates = Context.Reference<TemplateSet>("@maspo/core/RequestTemplates", {
  defaultValue: () => MASPO_TEMPLATES
})

/** The template of a kind, or an error naming the set and the kind it lacks. */
export const templateOf = (set: TemplateSet, kind: RequestKind): CompiledTemplate => {
  const t = set.templates[kind]
  if (!t) throw new Error(`template set ${set.name} has no ${kind} template`)
  return t
}

/**
 * The shipped set an optimizer config names, as a layer: what a program running MASPO without the
 * CLI provides (the CLI adds a run config's template files). Without it requests use maspo's set,
 * which has no by-level judge requests: the paper preset needs this layer.
 */
export const templatesLayerFor = (config: { readonly templateSet: keyof typeof SHIPPED_TEMPLATE_SETS }) =>
  Layer.succeed(RequestTemplates, SHIPPED_TEMPLATE_SETS[config.templateSet]!)
