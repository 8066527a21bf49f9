import { InputError } from "@maspo/core"
import { Effect, Option, Schema, SchemaIssue } from "effect"
import { distance } from "fastest-levenshtein"
import { parse, type ValueNode } from "@humanwhocodes/momoa"

/**
 * What is wrong with a config, field by field: every problem a schema finds in a decoded JSON value,
 * with its JSON path, a message that says what was expected and what was given, a "did you mean" for
 * a misspelt field, and the line of the file it sits on.
 */

export type FieldPath = ReadonlyArray<PropertyKey>

export interface Problem {
  readonly path: FieldPath
  readonly message: string
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/** `methods[2].ablaton`, `providers.agent.sim`, `paper["gpt-4o"]`. */
export const jsonPath = (path: FieldPath): string =>
  path
    .map((key, i) =>
      typeof key === "number"
        ? `[${key}]`
        : IDENTIFIER.test(String(key))
          ? `${i === 0 ? "" : "."}${String(key)}`
          : `[${JSON.stringify(String(key))}]`
    )
    .join("") || "(top level)"

/**
 * The known name closest to `word` if it is close enough to be a slip of the keyboard: at most one
 * edit in three characters (case ignored), at least one. Ties go to the first known name.
 */
export const suggestName = (word: string, known: ReadonlyArray<string>): string | undefined => {
  let best: { name: string; d: number } | undefined
  for (const name of known) {
    const d = distance(word.toLowerCase(), name.toLowerCase())
    if (best === undefined || d < best.d) best = { name, d }
  }
  const limit = Math.max(1, Math.floor(word.length / 3))
  return best !== undefined && best.d <= limit ? best.name : undefined
}

/** "unknown field; did you mean `ablation`?" or the list of fields that are allowed there. */
export const unknownFieldMessage = (key: string, known: ReadonlyArray<string>): string => {
  const near = suggestName(key, known)
  return near !== undefined
    ? `unknown field; did you mean \`${near}\`?`
    : `unknown field; allowed here: ${known.join(", ")}`
}

/** "; did you mean `arith`?", or "; known: a, b, c". */
export const unknownNameSuffix = (name: string, known: ReadonlyArray<string>): string => {
  const near = suggestName(name, known)
  return near !== undefined ? `; did you mean \`${near}\`?` : `; known: ${known.join(", ")}`
}

/** "unknown task 'arth'; did you mean `arith`?" */
export const unknownNameMessage = (what: string, name: string, known: ReadonlyArray<string>): string =>
  `unknown ${what} '${name}'${unknownNameSuffix(name, known)}`

const valueAt = (input: unknown, path: FieldPath): { value: unknown } | undefined => {
  let node: unknown = input
  for (const key of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) return undefined
    node = (node as Record<PropertyKey, unknown>)[key]
  }
  return { value: node }
}

const describeValue = (value: unknown): string => {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text
}

const formatLeaf = SchemaIssue.makeFormatterStandardSchemaV1()

const lowerFirst = (s: string) => s.charAt(0).toLowerCase() + s.slice(1)

/** Every problem in a schema issue tree, with absolute paths; `input` is the value that was decoded. */
export const problemsOf = (issue: SchemaIssue.Issue, input: unknown, at: FieldPath = []): Array<Problem> => {
  switch (issue._tag) {
    case "Pointer":
      return problemsOf(issue.issue, input, [...at, ...issue.path])
    case "Composite":
      return issue.issues.flatMap((i) => problemsOf(i, input, at))
    case "AnyOf":
      // An optional field is a union with `undefined`: its one failed member is the real problem.
      if (issue.issues.length === 1) return problemsOf(issue.issues[0]!, input, at)
      {
        // A choice of words (a kind, a mode, an ablation): name the closest one.
        const words = issue.ast.types.flatMap((t) =>
          t._tag === "Literal" && typeof t.literal === "string" ? [t.literal] : []
        )
        const given = valueAt(input, at)
        if (words.length === issue.ast.types.length && typeof given?.value === "string") {
          const near = suggestName(given.value, words)
          const hint = near !== undefined ? `; did you mean \`${near}\`?` : ""
          return [
            {
              path: at,
              message: `expected one of ${words.join(", ")}, got ${describeValue(given.value)}${hint}`
            }
          ]
        }
      }
      break
    case "UnexpectedKey": {
      const known =
        issue.ast._tag === "Objects" ? issue.ast.propertySignatures.map((p) => String(p.name)) : []
      return [{ path: at, message: unknownFieldMessage(String(at[at.length - 1] ?? ""), known) }]
    }
    case "MissingKey":
      return [{ path: at, message: "missing (this field is required)" }]
    case "Filter": {
      const expected = issue.filter.annotations?.expected
      if (typeof expected === "string") {
        const given = valueAt(input, at)
        return [
          {
            path: at,
            message: `expected ${expected}` + (given ? `, got ${describeValue(given.value)}` : "")
          }
        ]
      }
      break
    }
  }
  return formatLeaf(issue).issues.map((i) => {
    const path = [...at, ...(i.path ?? []).map((k) => (typeof k === "object" ? k.key : k))]
    const given = valueAt(input, path)
    const message = lowerFirst(i.message)
    return {
      path,
      message: given && !/, got /.test(message) ? `${message}, got ${describeValue(given.value)}` : message
    }
  })
}

/**
 * Decodes `input` and returns every problem found (none: the value). Fields the schema does not name
 * are problems unless `excess` is `ignore`.
 */
export const decodeStrict = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  input: unknown,
  excess: "error" | "ignore" = "error"
): { readonly value: S["Type"] } | { readonly problems: ReadonlyArray<Problem> } => {
  const result = Schema.decodeUnknownExit(schema)(input, { onExcessProperty: excess, errors: "all" })
  if (result._tag === "Success") return { value: result.value }
  const error = result.cause.reasons.find((r) => r._tag === "Fail")?.error
  if (Schema.isSchemaError(error)) return { problems: problemsOf(error.issue, input) }
  throw result.cause
}

/**
 * The line of a field in a JSON text: the line of its key (or array element), or of the nearest
 * enclosing field that is present when the field itself is missing.
 */
export const lineOfPath = (text: string, path: FieldPath): number | undefined => {
  let node: ValueNode
  try {
    node = parse(text, { mode: "json" }).body
  } catch {
    return undefined
  }
  let line = node.loc.start.line
  for (const key of path) {
    if (node.type === "Object") {
      const member = node.members.find((m) => m.name.type === "String" && m.name.value === String(key))
      if (member === undefined) break
      line = member.loc.start.line
      node = member.value
    } else if (node.type === "Array" && typeof key === "number" && node.elements[key] !== undefined) {
      line = node.elements[key].loc.start.line
      node = node.elements[key].value
    } else break
  }
  return line
}

/** The line of a JSON syntax error, as the parser reports it. */
export const syntaxErrorLine = (text: string): number | undefined => {
  try {
    parse(text, { mode: "json" })
    return undefined
  } catch (e) {
    const line = (e as { line?: unknown }).line
    return typeof line === "number" ? line : undefined
  }
}

/**
 * One error for all the problems: `<where>: <field>: <message>`, one problem a line. `where` names
 * the file and line (or the flag) a field came from; a field set by a flag of its own is not named
 * again (`--beam: expected an integer >= 1, got 0`).
 */
export const problemsError = (
  problems: ReadonlyArray<Problem>,
  where: (path: FieldPath) => string
): InputError => {
  const lines = problems.map((p) => {
    const source = where(p.path)
    const ownFlag = source.startsWith("--") && !source.startsWith("--set ")
    return { source, text: ownFlag ? p.message : `${jsonPath(p.path)}: ${p.message}` }
  })
  const [first, ...rest] = lines
  return new InputError({
    source: first?.source ?? "input",
    message: [first?.text ?? "invalid", ...rest.map((r) => `${r.source}: ${r.text}`)].join("\n")
  })
}

/**
 * Checks command-line values against the schemas config files use for the same settings: the
 * first bad one is an error naming the flag and the allowed range.
 */
export const checkFlags = (
  values: ReadonlyArray<
    readonly [flag: string, schema: Schema.Top & { readonly DecodingServices: never }, value: unknown]
  >
): Effect.Effect<void, InputError> => {
  for (const [flag, schema, raw] of values) {
    const value = Option.isOption(raw) ? Option.getOrUndefined(raw) : raw
    if (value === undefined) continue
    const decoded = decodeStrict(schema, value)
    if ("problems" in decoded) return Effect.fail(problemsError(decoded.problems, () => flag))
  }
  return Effect.void
}

/** Where a field of a JSON file is: `file:line`, or the file alone when the line is unknown. */
export const fileLine =
  (file: string, text: string) =>
  (path: FieldPath): string => {
    const line = lineOfPath(text, path)
    return line === undefined ? file : `${file}:${line}`
  }
