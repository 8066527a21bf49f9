import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { extractCode, fencedBlocks, normalizeCode } from "../src/code/index.ts"

const noTicks = (s: string) => !s.includes("`")
/** Text without backticks: prose can then never open or close a fence. */
const prose = fc.string({ unit: "grapheme", maxLength: 200 }).filter(noTicks)
const code = fc
  .array(
    fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("def f(x):", "    return x + 1", "", "  # c")),
    {
      maxLength: 12
    }
  )
  .map((lines) => lines.join("\n"))
  .filter(noTicks)
const pyLabel = fc.constantFrom("python", "py", "python3", "Python", "PY")

describe("extractCode", () => {
  it("returns code without backticks unchanged", () => {
    fc.assert(fc.property(code, (c) => extractCode(c) === c))
    fc.assert(fc.property(fc.string().filter(noTicks), (s) => extractCode(s) === s))
  })

  it("finds a python block whatever prose surrounds it", () => {
    fc.assert(
      fc.property(prose, code, prose, pyLabel, (before, c, after, label) => {
        assert.strictEqual(extractCode(`${before}\n\`\`\`${label}\n${c}\n\`\`\`\n${after}`), c)
      })
    )
  })

  it("prefers the last python block over earlier ones and over unlabelled or other blocks", () => {
    fc.assert(
      fc.property(prose, code, code, code, code, (p, first, last, bare, other) => {
        const reply =
          `${p}\n\`\`\`python\n${first}\n\`\`\`\n${p}\n\`\`\`python\n${last}\n\`\`\`\n` +
          `${p}\n\`\`\`\n${bare}\n\`\`\`\n\`\`\`bash\n${other}\n\`\`\`\n${p}`
        assert.strictEqual(extractCode(reply), last)
      })
    )
  })

  it("without a python block takes the last unlabelled block, then the last block of any label", () => {
    fc.assert(
      fc.property(prose, code, code, code, (p, a, b, other) => {
        const unlabelled = `${p}\n\`\`\`\n${a}\n\`\`\`\n${p}\n\`\`\`\n${b}\n\`\`\`\n\`\`\`text\n${other}\n\`\`\`\n${p}`
        assert.strictEqual(extractCode(unlabelled), b)
        assert.strictEqual(
          extractCode(`${p}\n\`\`\`text\n${a}\n\`\`\`\n${p}\n\`\`\`sh\n${other}\n\`\`\`\n`),
          other
        )
      })
    )
  })

  it("takes an unterminated final fence to the end of the reply", () => {
    fc.assert(
      fc.property(prose, code, code, (p, done, open) => {
        assert.strictEqual(
          extractCode(`${p}\n\`\`\`python\n${done}\n\`\`\`\n${p}\n\`\`\`python\n${open}`),
          open
        )
      })
    )
  })

  it("handles longer fences containing triple backticks, CRLF fences and info strings", () => {
    assert.strictEqual(extractCode("````python\ns = '```'\nx = 1\n````"), "s = '```'\nx = 1")
    assert.strictEqual(extractCode("Here:\r\n```python\r\nx = 1\r\n```\r\nDone"), "x = 1\r")
    assert.strictEqual(extractCode('```python title="sol.py"\nx = 2\n```'), "x = 2")
    assert.strictEqual(extractCode("  ```py\nx = 3\n  ```"), "x = 3")
    assert.strictEqual(extractCode("Use `print` here:\n```python\nprint(1)\n```"), "print(1)")
  })

  it("never throws and always returns a substring of the reply", () => {
    const noisy = fc
      .array(fc.oneof(fc.string(), fc.constantFrom("```", "```python", "````", "```py ", " ```", "\n")), {
        maxLength: 20
      })
      .map((parts) => parts.join("\n"))
    fc.assert(fc.property(noisy, (reply) => reply.includes(extractCode(reply))))
  })

  it("counts fenced blocks", () => {
    assert.deepStrictEqual(fencedBlocks("a\n```python\nx\n```\nb\n```\ny"), [
      { label: "python", body: "x" },
      { label: "", body: "y" }
    ])
  })
})

describe("normalizeCode (vote key)", () => {
  it("ignores trailing whitespace, blank lines and line endings, and is idempotent", () => {
    fc.assert(
      fc.property(code, (c) => {
        const noisy = c
          .split("\n")
          .map((l) => `${l}  \t`)
          .join("\r\n\n")
        assert.strictEqual(normalizeCode(noisy), normalizeCode(c))
        assert.strictEqual(normalizeCode(normalizeCode(c)), normalizeCode(c))
      })
    )
  })

  it("keeps indentation and content apart", () => {
    assert.notStrictEqual(normalizeCode("if x:\n    y()\nz()"), normalizeCode("if x:\n    y()\n    z()"))
    assert.notStrictEqual(normalizeCode("return 1"), normalizeCode("return 2"))
  })
})
