import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { fillTemplate, findSlots, restoreMissingSlots, slotProblems } from "@maspo/core"

// Text with no braces at all, so it can never form a slot by itself.
const plain = fc.string({ maxLength: 40 }).map((s) => s.replace(/[{}]/g, ""))

describe("template slots", () => {
  it("finds slots but not LaTeX arguments", () => {
    assert.deepStrictEqual(findSlots("Solve {question}. Put it in \\boxed{answer}. Notes: {context}"), [
      "question",
      "context"
    ])
    assert.deepStrictEqual(findSlots("x^{2} and {} and { question }"), [])
  })

  it("reports unknown, duplicated and missing slots by name", () => {
    const p = slotProblems("{question} {question} {foo}")
    assert.deepStrictEqual(p.unknown, ["foo"])
    assert.deepStrictEqual(p.duplicated, ["question"])
    assert.deepStrictEqual(p.missing, ["context"])
  })

  it("property: a template built from plain text and both slots once is valid", () => {
    fc.assert(
      fc.property(plain, plain, plain, fc.boolean(), (a, b, c, swap) => {
        const [s1, s2] = swap ? ["{context}", "{question}"] : ["{question}", "{context}"]
        const p = slotProblems(`${a} ${s1}${b} ${s2}${c}`)
        return p.unknown.length === 0 && p.duplicated.length === 0 && p.missing.length === 0
      })
    )
  })

  it("property: filling substitutes each slot exactly once and never re-substitutes values", () => {
    fc.assert(
      fc.property(plain, plain, fc.string(), fc.string(), (a, b, q, ctx) => {
        const filled = fillTemplate(`${a} {question}${b} {context}`, { question: q, context: ctx })
        return filled === `${a} ${q}${b} ${ctx}`
      })
    )
    // A question that mentions {context} must not receive the context.
    assert.strictEqual(
      fillTemplate("{question}|{context}", { question: "{context}", context: "C" }),
      "{context}|C"
    )
  })

  it("property: restoring missing slots yields a valid template and keeps valid ones unchanged", () => {
    fc.assert(
      fc.property(plain, fc.boolean(), fc.boolean(), (text, q, c) => {
        const t = `${text}${q ? " {question}" : ""}${c ? " {context}" : ""}`
        const restored = restoreMissingSlots(t)
        const p = slotProblems(restored)
        return p.missing.length === 0 && p.duplicated.length === 0 && (q && c ? restored === t : true)
      })
    )
  })
})
