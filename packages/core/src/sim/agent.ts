import { parseContext } from "../protocol.ts"
import { unitFromParts } from "../random.ts"
import { type DirectiveId, directivesOf } from "./directives.ts"
import { isBareOutput } from "./judge.ts"
import { type ArithProblem, chainValues, difficulty, extractArith, parseProblem } from "./items.ts"
import {
  detectProb,
  extractionProb,
  falseChangeProb,
  isBare,
  majorityAnswer,
  PERSONA_INDEX,
  type Persona,
  personaOf,
  type Proposal,
  showsValues,
  type SimParams,
  solveProb
} from "./model.ts"

/**
 * The agent role: solving, reviewing and compressing. Every draw is a hash of (run seed, persona,
 * problem, sample index, purpose) and not of the prompt, so two prompts for the same agent face the
 * same luck (common random numbers): a better prompt can only turn a wrong answer right on an item.
 */

const CONTEXT_LINE = /^\[[^\]\n]+\] .*$/gm

/**
 * A line that is one of the simulator's own summaries (see `compress`), as an unlabelled context
 * shows it: the released code joins predecessors' summaries without agent labels.
 */
const SUMMARY_LINE =
  /^(?:Values (?:-?\d+, )*-?\d+; answer -?\d+\.|Answer -?\d+ with no working shown\.|Worked solution in \d+ steps; answer -?\d+\.|Gave answer -?\d+\.|No answer given\.)$/gm

/** The predecessors' summaries in a context, labelled (`[id] text`) or not. */
export const contextSummaries = (context: string): Array<string> => {
  const labelled = parseContext(context).map((e) => e.text)
  return labelled.length > 0 ? labelled : (context.match(SUMMARY_LINE) ?? [])
}

/** What an agent message says about the agent: its directives and persona, ignoring question and context. */
export const readAgentMessage = (content: string) => {
  const problem = parseProblem(content)
  const withoutProblem = problem ? content.replace(problem.text, " ") : content
  const labelled = content.match(CONTEXT_LINE) ?? []
  const instructions =
    labelled.length > 0
      ? withoutProblem.replace(CONTEXT_LINE, " ")
      : withoutProblem.replace(SUMMARY_LINE, " ")
  const texts =
    labelled.length > 0
      ? parseContext(labelled.join("\n---\n")).map((e) => e.text)
      : (content.match(SUMMARY_LINE) ?? [])
  const proposals = texts.map((t) => parseSummary(t))
  return {
    problem,
    directives: new Set(directivesOf(instructions)),
    persona: personaOf(instructions),
    proposals: proposals.filter((p) => p.answer !== undefined)
  }
}

/** Reads a compressed output (see `compress`) back into what a reviewer can use. */
export const parseSummary = (text: string): Proposal => {
  const answers = [...text.matchAll(/\banswer (-?\d+)/gi)]
  const values = /\bValues ((?:-?\d+, )*-?\d+);/.exec(text)
  return {
    answer: answers.length > 0 ? answers[answers.length - 1]![1] : undefined,
    values: values ? values[1]!.split(", ").map(Number) : undefined,
    bare: /no working shown/.test(text)
  }
}

const draw = (seed: number, persona: Persona, code: string, sampleIndex: number, purpose: string) =>
  unitFromParts("sim-agent", seed, persona, code, sampleIndex, purpose)

/** A wrong value no other agent's wrong value or stray number can equal (offsets in disjoint decades). */
const wrongValue = (gold: number, decade: number, u: number) => gold + 10 * decade + 1 + Math.floor(u * 3)

const finalLine = (
  answer: number,
  ds: ReadonlySet<DirectiveId>,
  stray: boolean,
  persona: Persona,
  lead: string
) =>
  ds.has("answer_tags")
    ? `${lead}<answer>${answer}</answer>`
    : `${lead}${answer}` + (stray ? ` (revision ${PERSONA_INDEX[persona]})` : "")

const SYMBOL = { add: "+", sub: "-", mul: "*" } as const

export interface AgentContext {
  readonly seed: number
  readonly sampleIndex: number
  readonly params: SimParams
}

const solve = (
  problem: ArithProblem & { readonly code: string },
  ds: ReadonlySet<DirectiveId>,
  persona: Persona,
  ctx: AgentContext
): string => {
  const d = (purpose: string) => draw(ctx.seed, persona, problem.code, ctx.sampleIndex, purpose)
  const values = [...chainValues(problem)]
  const gold = values[values.length - 1]!
  const correct = d("solve") < solveProb(persona, ds, difficulty(problem))
  const answer = correct ? gold : wrongValue(gold, PERSONA_INDEX[persona] - 1, d("slip"))
  values[values.length - 1] = answer
  const stray = d("stray") >= extractionProb(ds, ctx.params)
  if (isBare(ds)) return finalLine(answer, ds, stray, persona, "")
  const lines: Array<string> = []
  if (ds.has("restate_problem"))
    lines.push(
      `Restating the problem: begin at ${problem.start} and apply ${problem.ops.length} operations in order.`
    )
  if (ds.has("step_by_step")) {
    let prev = problem.start
    problem.ops.forEach((op, i) => {
      lines.push(`Step ${i + 1}: ${prev} ${SYMBOL[op.kind]} ${op.operand} = ${values[i]}.`)
      if (ds.has("check_steps")) lines.push(`check: step ${i + 1} ok.`)
      prev = values[i]!
    })
  } else if (ds.has("check_steps")) lines.push("check: all computations ok.")
  if (showsValues(ds)) lines.push(`Intermediate results: ${values.join(", ")}.`)
  if (lines.length === 0) lines.push("Working it out.")
  lines.push(finalLine(answer, ds, stray, persona, "The final value is "))
  return lines.join("\n")
}

const review = (
  problem: ArithProblem & { readonly code: string },
  ds: ReadonlySet<DirectiveId>,
  persona: Persona,
  proposals: ReadonlyArray<Proposal>,
  ctx: AgentContext
): string => {
  const d = (purpose: string) => draw(ctx.seed, persona, problem.code, ctx.sampleIndex, purpose)
  const values = chainValues(problem)
  const gold = values[values.length - 1]!
  const proposed = majorityAnswer(proposals)!
  const visible = proposals.some((p) => p.values !== undefined)
  const allBare = proposals.every((p) => p.bare)
  let answer: number
  let changed: boolean
  if (proposed === String(gold)) {
    changed = d("false-change") < falseChangeProb(ds, allBare)
    answer = changed ? wrongValue(gold, 9, d("false-value")) : gold
  } else {
    changed = d("detect") < detectProb(ds, visible, ctx.params)
    answer = changed
      ? d("fix") < ctx.params.fixRate
        ? gold
        : wrongValue(gold, 8, d("fix-value"))
      : Number(proposed)
  }
  const stray = d("stray") >= extractionProb(ds, ctx.params)
  const lines = [`Reviewing the proposed answer ${proposed}.`]
  if (visible && ds.has("recompute"))
    lines.push(`Recomputed the given values: ${proposals.flatMap((p) => p.values ?? []).join(", ")}.`)
  lines.push(changed ? "I found an error and corrected the answer." : "The proposed answer holds.")
  if (changed && ds.has("explain_corrections"))
    lines.push("The correction comes from redoing the last operation.")
  lines.push(finalLine(answer, ds, stray, persona, "The final value is "))
  return lines.join("\n")
}

/** The reply of the agent role to an agent message (a filled prompt). */
export const agentReply = (content: string, ctx: AgentContext): string => {
  const { problem, directives, persona, proposals } = readAgentMessage(content)
  if (!problem) return "I could not find a problem statement I can solve."
  return proposals.length > 0
    ? review(problem, directives, persona, proposals, ctx)
    : solve(problem, directives, persona, ctx)
}

/**
 * The compression call: keeps the answer as extraction reads it, and the intermediate values only
 * when the output stated them in a list, so what a successor can verify is visible in the text.
 */
export const compress = (output: string, maxWords: number): string => {
  const answer = extractArith(output)
  const listed = /Intermediate results: ((?:-?\d+, )*-?\d+)\./.exec(output)
  const steps = output.match(/^Step \d+:/gm)?.length ?? 0
  const summary =
    answer === undefined
      ? "No answer given."
      : listed
        ? `Values ${listed[1]}; answer ${answer}.`
        : isBareOutput(output)
          ? `Answer ${answer} with no working shown.`
          : steps > 0
            ? `Worked solution in ${steps} steps; answer ${answer}.`
            : `Gave answer ${answer}.`
  return summary.split(/\s+/).slice(0, maxWords).join(" ")
}
