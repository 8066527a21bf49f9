import { Effect } from "effect"
import { stableHash } from "../canonical.ts"
import { deriveSeed, SeededRng } from "../random.ts"
import type { Task, TaskItem } from "../Task.ts"

/**
 * `arith-chain`: word problems of 2-6 arithmetic steps on small integers. The question text is
 * self-describing, so the simulator (and its judge and optimizer) can recover the exact answer from
 * the text alone, as a strong real model would.
 */

export type Op = { readonly kind: "add" | "sub" | "mul"; readonly operand: number }

export interface ArithProblem {
  readonly start: number
  readonly ops: ReadonlyArray<Op>
}

/** The values after each step; the last one is the answer. */
export const chainValues = (p: ArithProblem): ReadonlyArray<number> => {
  const out: Array<number> = []
  let v = p.start
  for (const op of p.ops) {
    v = op.kind === "add" ? v + op.operand : op.kind === "sub" ? v - op.operand : v * op.operand
    out.push(v)
  }
  return out
}

/** Steps plus half a point per multiplication (carries make them harder). */
export const difficulty = (p: ArithProblem): number =>
  p.ops.length + 0.5 * p.ops.filter((o) => o.kind === "mul").length

const opText = (op: Op): string =>
  op.kind === "add"
    ? `Add ${op.operand}.`
    : op.kind === "sub"
      ? `Subtract ${op.operand}.`
      : `Multiply by ${op.operand}.`

export const problemText = (code: string, p: ArithProblem): string =>
  `Problem ${code}: Start with ${p.start}. ${p.ops.map(opText).join(" ")} What is the final value?`

const PROBLEM_RE =
  /Problem ([a-z0-9-]+): Start with (\d+)\. ((?:(?:Add|Subtract) \d+\. |Multiply by \d+\. )+)What is the final value\?/

/** Recovers a problem from any text that contains its statement. */
export const parseProblem = (
  text: string
): (ArithProblem & { readonly code: string; readonly text: string }) | undefined => {
  const m = PROBLEM_RE.exec(text)
  if (!m) return undefined
  const ops: Array<Op> = []
  for (const s of m[3]!.matchAll(/(Add|Subtract|Multiply by) (\d+)\./g)) {
    const operand = Number(s[2])
    ops.push({ kind: s[1] === "Add" ? "add" : s[1] === "Subtract" ? "sub" : "mul", operand })
  }
  return { code: m[1]!, start: Number(m[2]), ops, text: m[0] }
}

const generateProblem = (rng: SeededRng): ArithProblem => {
  for (;;) {
    const steps = 2 + rng.int(5)
    const start = 2 + rng.int(18)
    const ops: Array<Op> = []
    let v = start
    for (let i = 0; i < steps; i++) {
      const r = rng.next()
      const op: Op =
        r < 0.3 && v < 60
          ? { kind: "mul", operand: 2 + rng.int(8) }
          : r < 0.65 || v < 25
            ? { kind: "add", operand: 1 + rng.int(20) }
            : { kind: "sub", operand: 1 + rng.int(20) }
      v = op.kind === "add" ? v + op.operand : op.kind === "sub" ? v - op.operand : v * op.operand
      ops.push(op)
    }
    // Answers of at least 10 never coincide with the stray revision numbers (1-9) of the simulator's text.
    if (v >= 10) return { start, ops }
  }
}

/** `n` items from a generator seed; the split name goes into ids and codes so splits never collide. */
export const generateArithItems = (seed: number, n: number, split: string): ReadonlyArray<TaskItem> => {
  const rng = new SeededRng(deriveSeed(seed, `arith-items-${split}`))
  const tag = stableHash(`${seed}/${split}`).slice(0, 6)
  return Array.from({ length: n }, (_, i) => {
    const p = generateProblem(rng)
    const code = `${split}-${tag}-${i}`
    const values = chainValues(p)
    return {
      id: `arith/${code}`,
      question: problemText(code, p),
      gold: String(values[values.length - 1]),
      meta: { steps: p.ops.length, difficulty: difficulty(p) }
    }
  })
}

/** The simulator's fixed test set, like a dataset file: the same items for every run seed. */
export const ARITH_TEST_SEED = 20_260_001
export const ARITH_TEST_SIZE = 500
export const arithTestItems = (n = ARITH_TEST_SIZE): ReadonlyArray<TaskItem> =>
  generateArithItems(ARITH_TEST_SEED, Math.min(n, ARITH_TEST_SIZE), "test")

/** The answer a reply gives: the last <answer> tag, else the last integer in the text. */
export const extractArith = (reply: string): string | undefined => {
  const tags = [...reply.matchAll(/<answer>\s*(-?\d+)\s*<\/answer>/g)]
  if (tags.length > 0) return tags[tags.length - 1]![1]
  const numbers = reply.match(/-?\d+/g)
  return numbers ? numbers[numbers.length - 1] : undefined
}

export const arithTask: Task = {
  name: "arith",
  kind: "arith",
  compressionWords: 30,
  extract: extractArith,
  voteKey: (answer) => String(Number(answer)),
  score: (item, reply) => Effect.succeed(extractArith(reply) === item.gold ? 1 : 0)
}
