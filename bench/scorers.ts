/** Scorer throughput: math equivalence and extraction, choice-letter extraction, code-block extraction. */
import { extractChoice, extractCode, extractMathAnswer, mathEquivalent } from "@maspo/benchmarks"
import { type Figure, figure, opsPerSecond } from "./util.ts"

const MATH_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ["\\frac{1}{2}", "0.5"],
  ["\\dfrac{3}{4}", "\\frac34"],
  ["2\\sqrt{3}", "\\sqrt{12}"],
  ["x = 5", "5"],
  ["(1, 2)", "(1,2)"],
  ["10\\%", "10"],
  ["\\text{(B)}", "B"],
  ["1{,}000", "1000"],
  ["\\pi/2", "\\frac{\\pi}{2}"],
  ["-7", "7"]
]
const MATH_REPLIES = MATH_PAIRS.map(
  ([a], i) =>
    `Step ${i}: we simplify the expression and get $y = ${a}$. Therefore the answer is \\boxed{${a}}.`
)
const CHOICE_REPLIES = [
  "The answer is (C).",
  "After checking every option, I choose B because the others fail.",
  "Answer: D",
  "**E**",
  "Option A is wrong, option B is wrong, so the correct one is C) 42.",
  "None of these look right; maybe A?",
  "<answer>B</answer>",
  "Final answer: (A) 12 apples"
]
const CODE_REPLIES = [
  "Here is the solution:\n```python\ndef add(a, b):\n    return a + b\n```\nIt adds two numbers.",
  "```\nimport math\n\ndef area(r):\n    return math.pi * r * r\n```",
  "First a helper:\n```python\ndef h(x):\n    return x * 2\n```\nthen the main one:\n```python\ndef f(xs):\n    return [h(x) for x in xs]\n```",
  "def plain(x):\n    return x",
  "Explanation without code."
]

export const scorerBenchmarks = async (): Promise<Array<Figure>> => {
  const results = await opsPerSecond([
    {
      name: "mathEquivalent",
      perIteration: MATH_PAIRS.length,
      fn: () => MATH_PAIRS.map(([a, b]) => mathEquivalent(a, b))
    },
    {
      name: "extractMathAnswer",
      perIteration: MATH_REPLIES.length,
      fn: () => MATH_REPLIES.map(extractMathAnswer)
    },
    {
      name: "extractChoice",
      perIteration: CHOICE_REPLIES.length,
      fn: () => CHOICE_REPLIES.map((r) => extractChoice(r))
    },
    { name: "extractCode", perIteration: CODE_REPLIES.length, fn: () => CODE_REPLIES.map(extractCode) }
  ])
  return results.map((r) => figure("scorers", r.name, r.opsPerSecond, "calls/s", `${r.samples} samples`))
}
