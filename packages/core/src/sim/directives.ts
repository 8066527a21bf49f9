/**
 * The simulator's catalogue of instruction directives. A prompt "has" a directive when any of its
 * paraphrases occurs in it after normalising case, punctuation and whitespace; text the catalogue
 * does not know has no effect, so any prompt (one written by a real LLM included) can be run.
 */

export type DirectiveId =
  | "step_by_step"
  | "check_steps"
  | "state_intermediate"
  | "final_only"
  | "answer_tags"
  | "read_carefully"
  | "order_of_operations"
  | "restate_problem"
  | "quick"
  | "recompute"
  | "change_only_if_error"
  | "always_improve"
  | "explain_corrections"
  | "polite"
  | "formal_english"
  | "expert_persona"
  | "stay_focused"
  | "clear_language"
  | "confident"
  | "no_jargon"
  | "friendly"
  | "structured_output"

/** Who a directive acts on, and how (documented in docs/simulator.md). */
export type DirectiveGroup = "solver" | "reviewer" | "any" | "irrelevant"

export interface Directive {
  readonly id: DirectiveId
  readonly group: DirectiveGroup
  readonly paraphrases: ReadonlyArray<string>
  /** What it does in the simulator, one line (rendered into the docs). */
  readonly effect: string
}

export const DIRECTIVES: ReadonlyArray<Directive> = [
  {
    id: "step_by_step",
    group: "solver",
    paraphrases: [
      "think step by step",
      "show your work",
      "reason step by step",
      "work through it one step at a time"
    ],
    effect: "+0.8 on the solver's logit; the output shows numbered steps"
  },
  {
    id: "check_steps",
    group: "solver",
    paraphrases: [
      "check each arithmetic step",
      "verify every calculation",
      "double-check each computation",
      "check your arithmetic at every step"
    ],
    effect: "+0.6 on the solver's logit, +0.5 on a reviewer's detection logit; the output shows check lines"
  },
  {
    id: "state_intermediate",
    group: "solver",
    paraphrases: [
      "state every intermediate result explicitly",
      "write down each intermediate value",
      "list all intermediate results",
      "make every intermediate value explicit"
    ],
    effect:
      "no effect on the agent itself; its output lists the intermediate values and the compression keeps them, so a successor can verify them"
  },
  {
    id: "final_only",
    group: "solver",
    paraphrases: [
      "give only the final value, no explanation",
      "answer with the final value only",
      "reply with just the final number",
      "do not explain, just give the answer"
    ],
    effect:
      "no effect on the agent's accuracy; its output is bare (wins a local judge's ties on brevity), hides any intermediate values and raises a successor's false-change rate"
  },
  {
    id: "answer_tags",
    group: "any",
    paraphrases: [
      "put the final answer in <answer></answer> tags",
      "put the final answer in <answer> tags",
      "wrap the final answer in answer tags",
      "enclose the final answer in <answer></answer>",
      "use answer tags for the final answer"
    ],
    effect:
      "the answer is extracted reliably; without it, 20% of outputs end with a stray number that extraction picks up"
  },
  {
    id: "read_carefully",
    group: "solver",
    paraphrases: [
      "read the problem carefully",
      "read the question carefully",
      "pay close attention to the problem statement"
    ],
    effect: "+0.3 on the solver's logit"
  },
  {
    id: "order_of_operations",
    group: "solver",
    paraphrases: [
      "apply the operations in the order given",
      "follow the order of the operations",
      "keep track of the order of operations"
    ],
    effect: "+0.2 on the solver's logit"
  },
  {
    id: "restate_problem",
    group: "solver",
    paraphrases: [
      "restate the problem in your own words",
      "begin by restating the problem",
      "paraphrase the question first"
    ],
    effect: "no effect on accuracy; the output opens with a restatement (longer, so it loses brevity ties)"
  },
  {
    id: "quick",
    group: "any",
    paraphrases: [
      "answer quickly, without deliberation",
      "be fast and do not overthink",
      "respond immediately without careful thought"
    ],
    effect:
      "-1.0 on the solver's logit; -1.0 on a reviewer's detection logit and +0.5 on its false-change logit (harmful)"
  },
  {
    id: "recompute",
    group: "reviewer",
    paraphrases: [
      "recompute each intermediate value you are given",
      "recalculate every value from the context",
      "redo each calculation you receive"
    ],
    effect:
      "+1.5 on a reviewer's detection logit, effective only when intermediate values are visible in its context"
  },
  {
    id: "change_only_if_error",
    group: "reviewer",
    paraphrases: [
      "change the answer only if you find a concrete error",
      "keep the previous answer unless you find a specific mistake",
      "only revise when there is a clear error"
    ],
    effect: "-1.5 on a reviewer's false-change logit"
  },
  {
    id: "always_improve",
    group: "reviewer",
    paraphrases: [
      "always improve on the previous answer",
      "always provide a better answer than the one given",
      "never accept the previous answer as is"
    ],
    effect: "+2.0 on a reviewer's false-change logit (harmful)"
  },
  {
    id: "explain_corrections",
    group: "reviewer",
    paraphrases: [
      "explain any correction you make",
      "justify each change you make",
      "say why you changed the answer"
    ],
    effect: "no effect on accuracy; the review states its reasoning"
  },
  ...(
    [
      ["polite", ["be polite", "use a courteous tone", "remain respectful"]],
      ["formal_english", ["use formal english", "write in a formal register", "use formal language"]],
      [
        "expert_persona",
        ["you are a world-class expert", "act as a seasoned professional", "you are highly skilled"]
      ],
      ["stay_focused", ["stay focused on the task", "do not get distracted", "keep to the task at hand"]],
      ["clear_language", ["use clear language", "write clearly", "express yourself plainly"]],
      ["confident", ["be confident", "sound assured", "answer with confidence"]],
      ["no_jargon", ["avoid jargon", "do not use technical jargon", "keep the wording simple"]],
      ["friendly", ["be friendly", "use a warm tone", "keep a friendly voice"]],
      [
        "structured_output",
        ["organize your response", "structure your reply", "keep your reply well organized"]
      ]
    ] as const
  ).map(([id, paraphrases]) => ({ id, group: "irrelevant" as const, paraphrases, effect: "none" }))
]

export const DIRECTIVE_BY_ID: ReadonlyMap<DirectiveId, Directive> = new Map(DIRECTIVES.map((d) => [d.id, d]))

/** Lower case, punctuation to spaces, single spaces: the form paraphrases are matched in. */
export const normalizeText = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, " ")
    .trim()

const NORMALIZED: ReadonlyArray<readonly [DirectiveId, ReadonlyArray<string>]> = DIRECTIVES.map((d) => [
  d.id,
  d.paraphrases.map(normalizeText)
])

/** The set of directives a free-text prompt contains, in catalogue order. */
export const directivesOf = (text: string): ReadonlyArray<DirectiveId> => {
  const padded = ` ${normalizeText(text)} `
  return NORMALIZED.filter(([, ps]) => ps.some((p) => padded.includes(` ${p} `))).map(([id]) => id)
}

/** The sentence a directive is written as in a prompt (its paraphrase, capitalised, with a full stop). */
export const directiveSentence = (id: DirectiveId, paraphraseIndex = 0): string => {
  const ps = DIRECTIVE_BY_ID.get(id)!.paraphrases
  const p = ps[paraphraseIndex % ps.length]!
  return `${p[0]!.toUpperCase()}${p.slice(1)}.`
}
