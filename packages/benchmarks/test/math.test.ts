import { assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { loadDataset, resolveDataDir } from "../src/datasets/index.ts"
import {
  extractMathAnswer,
  mathEquivalent,
  mathTask,
  mathVoteKey,
  normalizeMath,
  numericValue
} from "../src/math/index.ts"

/** Hand-checked pairs: [a, b, equivalent?]. */
const CASES: ReadonlyArray<readonly [string, string, boolean]> = [
  // fractions and decimals
  ["\\frac{1}{2}", "0.5", true],
  ["\\frac{1}{2}", "\\dfrac12", true],
  ["0.5", "\\dfrac12", true],
  ["\\tfrac{1}{2}", "1/2", true],
  ["\\frac12", "\\frac{1}{2}", true],
  ["\\frac{270}7", "\\frac{270}{7}", true],
  ["-\\frac{31}{8}", "-3.875", true],
  ["\\frac{-31}{8}", "-\\frac{31}{8}", true],
  ["\\frac{2}{4}", "\\frac{1}{2}", true],
  ["\\frac{1}{3}", "0.333333333", true],
  ["\\frac{1}{3}", "0.33", false],
  ["\\frac{1}{2}", "\\frac{1}{3}", false],
  ["137 \\frac{1}{2}", "137.5", true],
  ["1/0", "1/0", true],
  ["\\frac{998}{999}", "\\frac{997}{998}", false],
  ["2\\frac{1}{2}", "\\frac52", true],
  ["-2\\frac{1}{2}", "-2.5", true],
  ["1/0", "2/0", false],
  // integers, signs, trailing zeros
  ["10", "100", false],
  ["3", "-3", false],
  ["3", "3.0", true],
  ["3.50", "3.5", true],
  ["2.000", "2", true],
  [".5", "0.5", true],
  ["-0.25", "-\\frac14", true],
  ["1000000", "1000001", false],
  ["5.", "5", true],
  ["+7", "7", true],
  // thousands separators
  ["1,000", "1000", true],
  ["32,\\!348", "32348", true],
  ["\\$32,\\!348", "32348", true],
  ["11,\\! 111,\\! 111,\\! 100", "11111111100", true],
  ["\\frac{12}{5,\\!525}", "\\frac{12}{5525}", true],
  ["12,\\!000,\\!085", "12000085", true],
  ["1,00", "100", false],
  // units, degrees, percent, dollars, text
  ["90^\\circ", "90", true],
  ["90^{\\circ}", "90", true],
  ["90°", "90^\\circ", true],
  ["100\\%", "100", true],
  ["50\\%", "5", false],
  ["\\$18.90", "18.9", true],
  ["5.4 \\text{ cents}", "5.4", true],
  ["864 \\mbox{ inches}^2", "864", true],
  ["15\\mbox{ cm}^2", "15", true],
  ["8\\sqrt{3} \\text { square inches}", "8\\sqrt{3}", true],
  ["\\frac{270}7\\text{ degrees}", "\\frac{270}{7}", true],
  ["\\text{Devon}", "Devon", true],
  ["\\text{(C)}", "C", true],
  ["\\text{(C)}", "(B)", false],
  ["\\textbf{east}", "\\text{east}", true],
  ["\\text{even}", "\\text{odd}", false],
  ["\\text{Friday}", "friday", true],
  ["X", "x", false],
  // assignments
  ["x=3", "3", true],
  ["x = 3", "y=3", true],
  ["x=3", "4", false],
  ["x \\in [-2,7]", "[-2,7]", true],
  ["5x - 7y + 11z + 4 = 0", "5x-7y+11z+4=0", true],
  // intervals and tuples
  ["(1,2]", "(1, 2]", true],
  ["(1,2)", "[1,2]", false],
  ["(1,2]", "(1,2)", false],
  ["\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})", true],
  ["\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac\\pi2)", true],
  ["\\left[ \\frac{3}{2}, 2 \\right)", "[1.5,2)", true],
  ["(\\tfrac{27}{8}, \\tfrac{15}{8})", "(3.375, 1.875)", true],
  ["(3,-3,1)", "(3,-3)", false],
  ["(3,-3,1)", "(3,3,1)", false],
  ["(-\\infty, 2) \\cup (3, \\infty)", "(-\\infty,2)\\cup(3,\\infty)", true],
  ["(a+5)(b+2)", "(a+5)(b+2)", true],
  // bare lists are unordered
  ["-2,1", "1, -2", true],
  ["\\frac{3}{4}, -\\frac{3}{4}", "-0.75, 0.75", true],
  ["-2,1", "-2,2", false],
  // matrices
  ["\\begin{pmatrix} 23/8 \\\\ 7/4 \\end{pmatrix}", "\\begin{pmatrix} 2.875 \\\\ 1.75 \\end{pmatrix}", true],
  ["\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", "\\begin{pmatrix}-1&0\\\\0&-1\\end{pmatrix}", true],
  ["\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", false],
  // symbolic
  ["\\sqrt{2}", "2", false],
  ["\\sqrt2", "\\sqrt{2}", true],
  ["11\\sqrt2", "11 \\sqrt{2}", true],
  ["\\sqrt{2}", "1.41421356", false],
  ["\\pi", "3.14159265", false],
  ["2\\pi", "2 \\pi", true],
  ["\\frac{\\sqrt{3}}{3}", "\\dfrac{\\sqrt3}{3}", true],
  ["\\frac{\\pi r^2}{2}", "\\frac{\\pir^2}{2}", false],
  ["1 \\pm \\sqrt{19}", "1\\pm\\sqrt{19}", true],
  ["204_5", "204_{5}", false],
  ["$\\boxed{5}$", "5", true],
  ["\\left\\{1,2\\right\\}", "\\{1,2\\}", true],
  ["", "0", false]
]

describe("mathEquivalent: hand-checked table", () => {
  it(`has at least 60 cases, equal and not-equal (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60)
    expect(CASES.filter((c) => c[2]).length).toBeGreaterThan(20)
    expect(CASES.filter((c) => !c[2]).length).toBeGreaterThan(20)
  })
  for (const [a, b, eq] of CASES) {
    it(`${JSON.stringify(a)} ${eq ? "==" : "!="} ${JSON.stringify(b)}`, () => {
      expect(mathEquivalent(a, b)).toBe(eq)
      expect(mathEquivalent(b, a)).toBe(eq)
    })
  }

  it("undefined is never equivalent", () => {
    expect(mathEquivalent(undefined, "3")).toBe(false)
    expect(mathEquivalent("3", undefined)).toBe(false)
    expect(mathEquivalent(undefined, undefined)).toBe(false)
  })

  it("normalizeMath canonical forms", () => {
    expect(normalizeMath("\\left( 3, \\frac{\\pi}{2} \\right)")).toBe("(3,\\frac{\\pi}{2})")
    expect(normalizeMath("\\dfrac12")).toBe("\\frac{1}{2}")
    expect(normalizeMath("1,000")).toBe("1000")
    expect(normalizeMath("x = 2.50")).toBe("2.5")
    expect(normalizeMath("\\pi r")).toBe("\\pi r")
    expect(numericValue("\\frac{1}{4}")).toBe(0.25)
    expect(numericValue("\\sqrt{2}")).toBeUndefined()
  })
})

describe("extractMathAnswer", () => {
  const cases: ReadonlyArray<readonly [string, string | undefined]> = [
    ["so \\boxed{5}.", "5"],
    [
      "\\boxed{\\frac{1}{2}} and later \\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}",
      "\\left( 3, \\frac{\\pi}{2} \\right)"
    ],
    ["\\boxed{\\{1,2\\}}", "\\{1,2\\}"],
    ["<answer>7</answer> then \\boxed{8}", "8"],
    ["\\boxed{8} then <answer> 7 </answer>", "7"],
    ["<answer>1</answer><answer>2</answer>", "2"],
    ["\\fbox{x^{2}}", "x^{2}"],
    ["\\boxed 5 is it", "5"],
    ["\\boxed{unclosed", undefined],
    ["no answer here", undefined],
    ["\\boxed{}", undefined],
    ["\\boxed{3} and \\boxed{", "3"],
    ["<ANSWER>4</ANSWER>", "4"]
  ]
  for (const [reply, want] of cases)
    it(JSON.stringify(reply), () => {
      expect(extractMathAnswer(reply)).toBe(want)
    })

  const noMarkers = fc
    .string({ maxLength: 200, unit: "binary" })
    .filter((s) => !/\\boxed|\\fbox|<answer>/i.test(s))
  const balanced: fc.Arbitrary<string> = fc.letrec<{ b: string }>((tie) => ({
    b: fc.oneof(
      { depthSize: "small" },
      fc.stringMatching(/^[0-9a-z+\-^_/\\ .,()]{1,8}$/).filter((s) => !s.endsWith("\\")),
      tie("b").map((x) => `{${x}}`),
      fc.tuple(tie("b"), tie("b")).map(([x, y]) => x + y)
    )
  })).b

  it("finds a boxed answer inside arbitrary text without markers (property)", () => {
    fc.assert(
      fc.property(noMarkers, balanced, noMarkers, (pre, ans, post) => {
        fc.pre(ans.trim() !== "" && !/\\boxed|\\fbox/.test(ans))
        return extractMathAnswer(`${pre}\\boxed{${ans}}${post}`) === ans.trim()
      })
    )
  })

  it("finds an <answer> tag inside arbitrary text without markers (property)", () => {
    fc.assert(
      fc.property(noMarkers, fc.stringMatching(/^[0-9a-z\\{} ]{1,20}$/), noMarkers, (pre, ans, post) => {
        fc.pre(ans.trim() !== "" && !/\\boxed|\\fbox/.test(ans) && !/<\/answer>/i.test(post))
        return extractMathAnswer(`${pre}<answer>${ans}</answer>${post}`) === ans.trim()
      })
    )
  })

  it("text without markers has no answer (property)", () => {
    fc.assert(fc.property(noMarkers, (s) => extractMathAnswer(s) === undefined))
  })
})

describe("equivalence properties", () => {
  const integer = fc.integer({ min: -1_000_000, max: 1_000_000 })
  const fraction = fc.tuple(fc.integer({ min: -999, max: 999 }), fc.integer({ min: 1, max: 999 }))
  const renderings = (p: number, q: number): ReadonlyArray<string> => [
    `${p}/${q}`,
    p < 0 ? `-\\frac{${-p}}{${q}}` : `\\frac{${p}}{${q}}`,
    `\\dfrac{${p}}{${q}}`,
    String(p / q)
  ]

  it("reflexive on generated numbers and fractions", () => {
    fc.assert(fc.property(fraction, ([p, q]) => renderings(p, q).every((r) => mathEquivalent(r, r))))
  })

  it("every rendering of a fraction is equivalent to every other, in both orders", () => {
    fc.assert(
      fc.property(fraction, ([p, q]) => {
        const rs = renderings(p, q)
        return rs.every((a) => rs.every((b) => mathEquivalent(a, b) && mathEquivalent(b, a)))
      })
    )
  })

  it("symmetric on arbitrary strings", () => {
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => mathEquivalent(a, b) === mathEquivalent(b, a)))
  })

  it("a number is not equivalent to a different number", () => {
    fc.assert(
      fc.property(integer, integer, (a, b) => {
        fc.pre(a !== b)
        return !mathEquivalent(String(a), String(b)) && !mathEquivalent(`${a}.0`, `\\frac{${b}}{1}`)
      })
    )
  })

  it("different fractions are not equivalent", () => {
    fc.assert(
      fc.property(fraction, fraction, ([p, q], [r, s]) => {
        fc.pre(p * s !== r * q)
        return !mathEquivalent(`\\frac{${p}}{${q}}`, `\\frac{${r}}{${s}}`)
      })
    )
  })

  it("thousands separators: a grouped integer equals its plain form", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 1e12 }), (n) =>
        mathEquivalent(n.toLocaleString("en-US"), String(n))
      )
    )
  })

  it("vote keys of equivalent numbers coincide", () => {
    fc.assert(fc.property(fraction, ([p, q]) => new Set(renderings(p, q).map(mathVoteKey)).size === 1))
  })
})

describe("every reference answer round-trips through a long reply", () => {
  const dataDir = resolveDataDir()
  for (const name of ["math500", "agieval-math"] as const) {
    it.effect(`${name}: extract(reply) is equivalent to the reference, for every item`, () =>
      Effect.gen(function* () {
        const items = yield* loadDataset(name, dataDir)
        expect(items.length).toBeGreaterThan(200)
        const failures: Array<string> = []
        for (const item of items) {
          const reply =
            "Let me think... " +
            "We consider the cases {a, b} and compute $x^2 + y^2$ carefully. ".repeat(20) +
            `so the answer is \\boxed{${item.gold}}. Done.`
          const got = extractMathAnswer(reply)
          if (!mathEquivalent(got, item.gold)) failures.push(`${item.id}: ${String(got)} vs ${item.gold}`)
        }
        assert.deepStrictEqual(failures, [])
      })
    )
  }
})

describe("mathTask", () => {
  const task = mathTask("math500")
  it.effect("scores by equivalence to the gold answer", () =>
    Effect.gen(function* () {
      expect(task.kind).toBe("math")
      expect(task.compressionWords).toBe(30)
      const item = { id: "x", question: "q", gold: "\\frac{1}{2}" }
      expect(yield* task.score(item, "thus \\boxed{0.5}")).toBe(1)
      expect(yield* task.score(item, "thus \\boxed{0.25}")).toBe(0)
      expect(yield* task.score(item, "no answer")).toBe(0)
      expect(task.extract("\\boxed{7}")).toBe("7")
      expect(task.voteKey("\\dfrac12")).toBe(task.voteKey("0.5"))
      expect(task.voteKey("\\sqrt{2}")).not.toBe(task.voteKey("2"))
    })
  )
})
