import { Schema } from "effect"

/**
 * The ranges every number a user gives must fall in, as schemas shared by config files and flags, so
 * a value is checked the same way wherever it comes from. Each carries its range as the `expected`
 * text that error messages print ("expected an integer >= 1, got 0").
 */

const bounded = (expected: string, ok: (n: number) => boolean) =>
  Schema.Number.check(Schema.makeFilter((n: number) => ok(n), { expected }))

/** Counts that must be at least one: beam width, batch size, concurrency, max tokens, item counts. */
export const PositiveInt = bounded("an integer >= 1", (n) => Number.isSafeInteger(n) && n >= 1)
/** Counts that may be zero: retries, misalignment cases. */
export const NonNegativeInt = bounded("an integer >= 0", (n) => Number.isSafeInteger(n) && n >= 0)
/** A seed: a non-negative integer (every random choice derives from it). */
export const Seed = NonNegativeInt
/** Durations, temperatures, weights: finite and not negative. */
export const NonNegativeNumber = bounded("a number >= 0", (n) => Number.isFinite(n) && n >= 0)
/** Rates (requests or tokens per minute): finite and above zero. */
export const PositiveNumber = bounded("a number > 0", (n) => Number.isFinite(n) && n > 0)
/** A probability. */
export const Fraction = bounded("a number in [0, 1]", (n) => n >= 0 && n <= 1)
/** A TCP port (0 asks the system for a free one). */
export const Port = bounded("an integer in [0, 65535]", (n) => Number.isInteger(n) && n >= 0 && n <= 65535)

/** The joint evaluator's level weights: each non-negative, and at least one above zero. */
export const LevelWeights = Schema.Struct({
  local: NonNegativeNumber,
  lookahead: NonNegativeNumber,
  global: NonNegativeNumber
}).check(
  Schema.makeFilter((w) => w.local + w.lookahead + w.global > 0, {
    expected: "weights that are not all zero"
  })
)
