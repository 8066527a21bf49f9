import { Schema } from "effect"

/** One line of each set's JSONL file (only the fields maspo reads; extra fields are allowed). */

export const Math500Row = Schema.Struct({
  problem: Schema.String,
  solution: Schema.String,
  answer: Schema.String,
  subject: Schema.String,
  level: Schema.Number,
  unique_id: Schema.String
})
export type Math500Row = typeof Math500Row.Type

export const AgievalMathRow = Schema.Struct({
  problem: Schema.String,
  answer: Schema.String,
  solution: Schema.String,
  level: Schema.Number,
  type: Schema.String
})
export type AgievalMathRow = typeof AgievalMathRow.Type

export const AquaRow = Schema.Struct({
  question: Schema.String,
  options: Schema.Array(Schema.String),
  rationale: Schema.String,
  correct: Schema.Literals(["A", "B", "C", "D", "E"])
})
export type AquaRow = typeof AquaRow.Type

/** GPQA Diamond: the question text carries options A-D inline. Never publish it in plain text. */
export const GpqaRow = Schema.Struct({
  question: Schema.String,
  answer: Schema.Literals(["A", "B", "C", "D"])
})
export type GpqaRow = typeof GpqaRow.Type

export const MbppRow = Schema.Struct({
  task_id: Schema.Number,
  prompt: Schema.String,
  code: Schema.String,
  test_imports: Schema.Array(Schema.String),
  test_list: Schema.Array(Schema.String)
})
export type MbppRow = typeof MbppRow.Type

export const HumanEvalEtRow = Schema.Struct({
  task_id: Schema.String,
  prompt: Schema.String,
  entry_point: Schema.String,
  canonical_solution: Schema.String,
  test: Schema.String,
  test_list: Schema.Array(Schema.String)
})
export type HumanEvalEtRow = typeof HumanEvalEtRow.Type
