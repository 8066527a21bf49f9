import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { CHOICE_LETTERS, choiceTask, extractChoice } from "../src/choice/index.ts"
import { loadDataset, resolveDataDir } from "../src/datasets/index.ts"

const CASES: ReadonlyArray<readonly [string, string | undefined, string?]> = [
  ["<answer>C</answer>", "C"],
  ["<answer>(C)</answer>", "C"],
  ["<answer>C)</answer>", "C"],
  ["<answer>C.</answer>", "C"],
  ["<answer> c </answer>", undefined],
  ["Reasoning... <answer>B</answer> and finally <answer>D</answer>", "D"],
  ["<answer>C ) 7 ( √ 3 – 1 )</answer>", "C"],
  ["<answer>D ) 3 D / ( M 2 - 3 M )</answer>", "D"],
  ["<answer>A)When B covers 890 m, C covers 866 m.</answer>", "A"],
  ["<answer>A or C</answer>", undefined],
  ["<answer>(A) or (C)</answer>", undefined],
  ["<answer>A) or C)</answer>", undefined],
  ["<answer>A and A</answer>", "A"],
  ["<answer>F</answer>", undefined],
  ["<answer>E</answer>", undefined, "ABCD"],
  ["<answer>E</answer>", "E", "ABCDE"],
  ["the answer is (C)", "C"],
  ["Thus the answer is C.", "C"],
  ["answer: C", "C"],
  ["Answer: (C)", "C"],
  ["**Answer:** B", "B"],
  ["The correct answer is option D", "D"],
  ["The answer is A and B", undefined],
  ["Answer: A, B", undefined],
  ["Answer: A. Option B is wrong because...", "A"],
  ["answer: F", undefined],
  ["First I thought the answer is A, but the answer is (B).", "B"],
  ["Hence \\boxed{D}", "D"],
  ["Hence \\boxed{\\text{(D)}}", "D"],
  ["the answer is B <answer>C</answer>", "C"],
  ["C", "C"],
  ["(C)", "C"],
  ["C.", "C"],
  ["  D  ", "D"],
  ["a", undefined],
  ["The answer is a number", undefined],
  ["I am not sure.", undefined],
  ["", undefined],
  ["Option A looks good and so does B", undefined]
]

describe("extractChoice: table", () => {
  for (const [reply, want, letters] of CASES)
    it(`${JSON.stringify(reply)} -> ${String(want)}`, () => {
      expect(extractChoice(reply, letters)).toBe(want)
    })
})

const letterOf = (letters: string) => fc.constantFrom(...letters.split(""))
const noTags = fc.string({ maxLength: 200, unit: "binary" }).filter((s) => !/<\/?answer>/i.test(s))

const FORMATS: ReadonlyArray<(l: string) => string> = [
  (l) => `<answer>${l}</answer>`,
  (l) => `<answer>(${l})</answer>`,
  (l) => `<answer>${l})</answer>`,
  (l) => `<answer>${l}.</answer>`,
  (l) => `<answer> ${l} </answer>`,
  (l) => `So the answer is (${l})`,
  (l) => `Therefore, the answer is ${l}.`,
  (l) => `answer: ${l}`,
  (l) => `Answer: (${l})`,
  (l) => `Final answer: **${l}**`,
  (l) => `\\boxed{${l}}`,
  (l) => l,
  (l) => `(${l})`,
  (l) => `${l}.`
]

describe("extractChoice: properties", () => {
  it("any letter round-trips through each format", () => {
    fc.assert(
      fc.property(fc.constantFrom("ABCDE", "ABCD"), fc.nat(FORMATS.length - 1), (letters, f) =>
        letters.split("").every((l) => extractChoice(FORMATS[f]!(l), letters) === l)
      )
    )
  })

  it("a tagged letter is found inside arbitrary text without tags", () => {
    fc.assert(
      fc.property(
        noTags,
        letterOf("ABCDE"),
        noTags,
        (pre, l, post) => extractChoice(`${pre}<answer>${l}</answer>${post}`) === l
      )
    )
  })

  it("the last tag wins over earlier tags and over phrases", () => {
    fc.assert(
      fc.property(
        letterOf("ABCDE"),
        letterOf("ABCDE"),
        noTags,
        (a, b, mid) =>
          extractChoice(`<answer>${a}</answer>${mid} the answer is ${a} <answer>${b}</answer>`) === b
      )
    )
  })

  it("two different letters are undefined", () => {
    const two = fc.tuple(letterOf("ABCDE"), letterOf("ABCDE")).filter(([a, b]) => a !== b)
    const forms: ReadonlyArray<(a: string, b: string) => string> = [
      (a, b) => `<answer>${a} or ${b}</answer>`,
      (a, b) => `<answer>${a} and ${b}</answer>`,
      (a, b) => `<answer>(${a}) or (${b})</answer>`,
      (a, b) => `<answer>${a}, ${b}</answer>`,
      (a, b) => `the answer is ${a} and ${b}`,
      (a, b) => `The answer is (${a}) or (${b}).`,
      (a, b) => `Answer: ${a}, ${b}`,
      (a, b) => `Answer: ${a}/${b}`
    ]
    fc.assert(
      fc.property(
        two,
        fc.nat(forms.length - 1),
        noTags,
        ([a, b], f, pre) => extractChoice(pre + forms[f]!(a, b)) === undefined
      )
    )
  })

  it("letters outside the allowed set are invalid", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(..."EFGHXYZ".split("")),
        fc.nat(FORMATS.length - 1),
        (l, f) => extractChoice(FORMATS[f]!(l), "ABCD") === undefined
      )
    )
  })
})

describe("choiceTask", () => {
  it.effect("scores the chosen letter against gold", () =>
    Effect.gen(function* () {
      const task = choiceTask("gpqa", "ABCD")
      expect(task.kind).toBe("choice")
      expect(task.compressionWords).toBe(30)
      const item = { id: "gpqa/0", question: "q", gold: "D" }
      expect(yield* task.score(item, "<answer>D</answer>")).toBe(1)
      expect(yield* task.score(item, "<answer>C</answer>")).toBe(0)
      expect(yield* task.score(item, "<answer>C or D</answer>")).toBe(0)
      expect(yield* task.score({ ...item, gold: "E" }, "<answer>E</answer>")).toBe(0)
      expect(task.voteKey("B")).toBe("B")
      expect(choiceTask("aqua").extract("<answer>E</answer>")).toBe("E")
      expect(CHOICE_LETTERS["gpqa"]).toBe("ABCD")
    })
  )

  it.effect("every gold letter of aqua and gpqa scores 1 when stated in the answer format", () =>
    Effect.gen(function* () {
      const dataDir = resolveDataDir()
      for (const name of ["aqua", "gpqa"] as const) {
        const task = choiceTask(name)
        const items = yield* loadDataset(name, dataDir)
        for (const item of items) {
          expect(yield* task.score(item, `Reasoning about the options.\n<answer>${item.gold}</answer>`)).toBe(
            1
          )
          const options = item.meta?.["options"] as ReadonlyArray<string> | undefined
          // AQuA: quoting the whole chosen option inside the tag also works
          const chosen = options?.find((o) => o.trim().startsWith(item.gold))
          if (chosen) expect(yield* task.score(item, `<answer>${chosen}</answer>`)).toBe(1)
        }
      }
    })
  )
})
