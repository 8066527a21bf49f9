import { Schema } from "effect"

/** Bad input from disk or the command line; `source` names the file (and line/field) or the flag. */
export class InputError extends Schema.TaggedError<InputError>()("InputError", {
  source: Schema.String,
  message: Schema.String
}) {}
