import { InputError } from "@maspo/core"
import { Effect, Result, Schema, SchemaIssue } from "effect"

/** The JSON type of a value as a reader would name it: string, number, boolean, null, array, object. */
export const jsonType = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "array" : typeof value

/** `answer`, `test_list[1]`, `a.b`. */
export const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join("")

const valueAt = (root: unknown, path: ReadonlyArray<PropertyKey>): { found: boolean; value: unknown } => {
  let cur: unknown = root
  for (const key of path) {
    if (cur === null || typeof cur !== "object" || !Object.prototype.hasOwnProperty.call(cur, key))
      return { found: false, value: undefined }
    cur = (cur as Record<PropertyKey, unknown>)[key]
  }
  return { found: true, value: cur }
}

const standard = SchemaIssue.makeFormatterStandardSchemaV1()

/**
 * One sentence naming the failing field of a decoded value: "field 'answer': expected string, got
 * number", "field 'answer': missing", "expected object, got array". Only the first issue is named.
 */
export const describeIssue = (issue: SchemaIssue.Issue, input: unknown): string => {
  const first = standard(issue).issues[0]
  const path = (first?.path ?? []).map((p) =>
    typeof p === "object" && p !== null ? (p as { key: PropertyKey }).key : p
  )
  const where = path.length > 0 ? `field '${formatPath(path)}': ` : ""
  const at = valueAt(input, path)
  if (!at.found) return `${where}missing`
  const raw = first?.message ?? "invalid value"
  const expected = raw.replace(/, got .*$/s, "")
  const lowered = expected.charAt(0).toLowerCase() + expected.slice(1)
  // A wrong value of the right type (a letter outside a set) shows the value when it is short.
  const shown = typeof at.value === "string" && at.value.length <= 20 ? ` ${JSON.stringify(at.value)}` : ""
  return `${where}${lowered}, got ${jsonType(at.value)}${shown}`
}

/**
 * Decodes JSON Lines text, one value a line, with `schema`. Blank lines are skipped. The first bad
 * line fails with an InputError whose source is `<file>:<line>` (1-based) and whose message names the
 * failing field, e.g. source "math-500/math_500.jsonl:17", message "field 'answer': expected string,
 * got number".
 */
export const decodeLines = <S extends Schema.ConstraintDecoder<unknown>>(
  file: string,
  text: string,
  schema: S
): Effect.Effect<ReadonlyArray<S["Type"]>, InputError> =>
  Effect.suspend(() => {
    const decode = Schema.decodeUnknownResult(schema)
    const out: Array<S["Type"]> = []
    const lines = text.split("\n")
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/\r$/, "")
      if (line.trim() === "") continue
      const source = `${file}:${i + 1}`
      let parsed: unknown
      try {
        parsed = JSON.parse(line)
      } catch (e) {
        return Effect.fail(new InputError({ source, message: `invalid JSON: ${(e as Error).message}` }))
      }
      const result = decode(parsed)
      if (Result.isFailure(result))
        return Effect.fail(new InputError({ source, message: describeIssue(result.failure.issue, parsed) }))
      out.push(result.success)
    }
    return Effect.succeed(out)
  })
