import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  compressionMessages,
  formatContext,
  pairwiseMessages,
  parseCompressionRequest,
  parseContext,
  parsePairwiseRequest,
  parseRefineReply,
  parseRefineRequest,
  parseVerdict,
  refineMessages,
  truncateWords
} from "@maspo/core"

// Texts without the protocol's own delimiters, as produced by any agent.
const text = fc.string({ minLength: 1, maxLength: 60 }).map((s) => s.replace(/[<>\n[\]-]/g, "x"))
const id = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/)

describe("protocol", () => {
  it("property: context round-trips", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ agentId: id, text: text.map((t) => t.trim() || "x") }), { maxLength: 4 }),
        (entries) => {
          assert.deepStrictEqual(parseContext(formatContext(entries)), entries)
        }
      )
    )
  })

  it("property: compression, pairwise and refine requests parse back", () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 200 }), (out, n) => {
        assert.deepStrictEqual(parseCompressionRequest(compressionMessages(out, n)[0]!.content), {
          maxWords: n,
          output: out
        })
      })
    )
    fc.assert(
      fc.property(
        text,
        text,
        text,
        fc.constantFrom("local", "lookahead", "global" as const),
        (q, a, b, level) => {
          assert.deepStrictEqual(
            parsePairwiseRequest(pairwiseMessages({ question: q, a, b, level })[0]!.content),
            {
              question: q,
              level,
              a,
              b
            }
          )
        }
      )
    )
    fc.assert(
      fc.property(
        text,
        text,
        fc.array(fc.record({ question: text, context: text, output: text })),
        (role, prompt, traces) => {
          const parsed = parseRefineRequest(refineMessages({ agentRole: role, prompt, traces })[0]!.content)
          assert.deepStrictEqual(parsed, { agentRole: role, prompt, traces })
        }
      )
    )
  })

  it("reads verdicts", () => {
    assert.strictEqual(parseVerdict("A"), "A")
    assert.strictEqual(parseVerdict(" b\n"), "B")
    assert.strictEqual(parseVerdict("<verdict>B</verdict> because A is wrong"), "B")
    assert.strictEqual(parseVerdict("Response A is better than response B."), "A")
    assert.strictEqual(parseVerdict("I cannot decide"), undefined)
  })

  it("reads refine replies, taking the last tagged prompt", () => {
    const r = parseRefineReply(
      "<analysis>x</analysis><modification>m</modification><new_prompt>p1</new_prompt> <new_prompt> p2 </new_prompt>"
    )
    assert.deepStrictEqual(r, { analysis: "x", modification: "m", newPrompt: "p2" })
    assert.strictEqual(parseRefineReply("no prompt here"), undefined)
  })

  it("property: truncation keeps at most n words, and a prefix of the words", () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{1,6}$/), { maxLength: 50 }),
        fc.integer({ min: 1, max: 40 }),
        (ws, n) => {
          const out = truncateWords(ws.join(" "), n)
          const kept = out === "" ? [] : out.split(" ")
          return kept.length === Math.min(n, ws.length) && kept.every((w, i) => w === ws[i])
        }
      )
    )
  })
})
