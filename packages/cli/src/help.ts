import { Flag } from "effect/cli"

/**
 * Help texts that state every flag's default, built from the value the code uses so the two cannot
 * drift: `(default X)` when the flag has one, `(no default: what its absence means)` when it has none.
 */
const show = (value: unknown): string =>
  typeof value === "boolean"
    ? value
      ? "on"
      : "off"
    : typeof value === "string"
      ? value
      : JSON.stringify(value)

export const defaultNote = (text: string, value: unknown): string => `${text} (default ${show(value)})`

/** A default that depends on other settings, in words. */
export const defaultWhen = (text: string, explanation: string): string => `${text} (default: ${explanation})`

export const noDefault = (text: string, meaning: string): string => `${text} (no default: ${meaning})`

/** A flag with a default value, its help saying what it is. */
export const defaulted = <A, const B extends A>(flag: Flag.Flag<A>, value: B, text: string): Flag.Flag<A> =>
  flag.pipe(Flag.withDescription(defaultNote(text, value)), Flag.withDefault(value))

/** A flag that may be left out; the help says what applies then. */
export const optionalWith = <A>(flag: Flag.Flag<A>, text: string) =>
  flag.pipe(Flag.withDescription(text), Flag.optional)
