import {
  type CompiledTemplate,
  compileTemplate,
  InputError,
  missingKinds,
  type OptimizerConfig,
  RequestKind,
  RequestTemplates,
  type RunConfig,
  SHIPPED_TEMPLATE_SETS,
  TemplateFile,
  type TemplateSet,
  templateSetHash,
  withOverrides,
  neededKinds,
  showsFeedback
} from "@maspo/core"
import { Effect, Layer } from "effect"
import { problemsError } from "./configProblems.ts"
import { readJsonLocated } from "./output.ts"
import { unknownNameMessage } from "./configProblems.ts"

/**
 * The template set of a run: the set its optimizer config (the preset) names, or the run config's
 * `templates.set`, with any request kind replaced by a template file (`templates.<kind>`, a path
 * relative to the working directory). A file is read like every other input: excess keys, wrong
 * values and template errors (undeclared or unused slots, unbalanced sections) name file, line and
 * field.
 */

/** One template file, decoded and compiled. */
export const readTemplateFile = Effect.fn("readTemplateFile")(function* (file: string, kind?: RequestKind) {
  const { value, where } = yield* readJsonLocated(TemplateFile)(file)
  if (kind !== undefined && value.kind !== kind)
    return yield* problemsError(
      [{ path: ["kind"], message: `is ${value.kind}, but the file is given for ${kind}` }],
      where
    )
  const compiled = compileTemplate(value)
  if ("problems" in compiled) return yield* problemsError(compiled.problems, where)
  return compiled.template
})

const OVERRIDE_KINDS: ReadonlyArray<RequestKind> = RequestKind.literals

export const resolveTemplates = Effect.fn("resolveTemplates")(function* (
  run: RunConfig,
  /** The optimizer config, when the run optimizes (it names the preset's set and the kinds needed). */
  optimizer?: OptimizerConfig
) {
  const name = run.templates?.set ?? optimizer?.templateSet ?? "maspo"
  const base = SHIPPED_TEMPLATE_SETS[name]
  if (base === undefined)
    return yield* new InputError({
      source: run.templates?.set !== undefined ? "templates.set" : "optimizer.templateSet",
      message: unknownNameMessage("template set", name, Object.keys(SHIPPED_TEMPLATE_SETS))
    })
  const overrides: Array<CompiledTemplate> = []
  for (const kind of OVERRIDE_KINDS) {
    const file = run.templates?.[kind]
    if (file !== undefined) overrides.push(yield* readTemplateFile(file, kind))
  }
  const set: TemplateSet = withOverrides(base, overrides)
  const needed = optimizer
    ? neededKinds(optimizer.singleJudgeRequest, optimizer.evaluator !== "ground-truth")
    : (["compress"] as const)
  const missing = missingKinds(set, needed)
  if (missing.length > 0)
    return yield* new InputError({
      source: "templates",
      message:
        `template set ${set.name} has no ${missing.join(", ")} template` +
        (optimizer ? ` (needed with singleJudgeRequest: ${optimizer.singleJudgeRequest})` : "") +
        `; give one with templates.${missing[0]} or choose another set`
    })
  // A feedback note the set's proposal request has no place for would be silently dropped.
  if (optimizer?.caseFeedbackNote === true && !showsFeedback(set))
    return yield* new InputError({
      source: "optimizer.caseFeedbackNote",
      message: `is true, but the propose template of set ${set.name} shows no feedback; set it to false or give a propose template whose traces have a feedback slot (templates.propose)`
    })
  return set
})

/** The run's templates as a layer, and the sets the simulator must read requests through. */
export const templatesLayer = (set: TemplateSet) => Layer.succeed(RequestTemplates, set)

/** What manifests and summaries record about a run's templates. */
export const templatesRecord = (set: TemplateSet) => ({ set: set.name, hash: templateSetHash(set) })
