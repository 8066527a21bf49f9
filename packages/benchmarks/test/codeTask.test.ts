import { assert, describe, it } from "@effect/vitest"
import type { TaskItem } from "@maspo/core"
import { Cause, Effect, Exit } from "effect"
import fc from "fast-check"
import {
  CodeMetaError,
  definesFunction,
  humanEvalEtExtendedTests,
  humanEvalEtProgram,
  humanEvalEtTask,
  makeSandbox,
  mbppProgram,
  mbppTask
} from "../src/code/index.ts"

const sandbox = makeSandbox()
const mbpp = mbppTask({ sandbox })
const he = humanEvalEtTask({ sandbox })

const mbppItem: TaskItem = {
  id: "mbpp/test-1",
  question: "Write a function to add two numbers.",
  gold: "def add(a, b):\n    return a + b",
  meta: { testImports: ["import math"], tests: ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"] }
}

const hePrompt =
  'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """ Sum of xs.\n    >>> total([1, 2])\n    3\n    """\n'
const heItem: TaskItem = {
  id: "humaneval-et/test-1",
  question: hePrompt,
  gold: "    return sum(xs)\n",
  meta: {
    entryPoint: "total",
    prompt: hePrompt,
    test: "\n\ndef check(candidate):\n    assert candidate([1, 2]) == 3\n    assert candidate([]) == 0\n",
    tests: ["assert total([5]) == 5", "assert total([1, 1, 1]) == 3"]
  }
}

const fenced = (code: string) => `Here is my solution.\n\n\`\`\`python\n${code}\n\`\`\`\n\nIt works.`

describe("code tasks", () => {
  it("are code tasks with 50-word compression, code extraction and whitespace-insensitive votes", () => {
    for (const task of [mbpp, he]) {
      assert.strictEqual(task.kind, "code")
      assert.strictEqual(task.compressionWords, 50)
      assert.strictEqual(task.extract(fenced("x = 1")), "x = 1")
      assert.isUndefined(task.extract("```python\n\n```"))
      assert.strictEqual(
        task.voteKey("def f():  \n\n    return 1\n\n"),
        task.voteKey("def f():\n    return 1")
      )
    }
    assert.strictEqual(mbpp.name, "mbpp")
    assert.strictEqual(he.name, "humaneval-et")
  })

  it.effect("MBPP: a correct reply scores 1, a wrong or empty one 0", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* mbpp.score(mbppItem, fenced("def add(a, b):\n    return a + b")), 1)
      assert.strictEqual(yield* mbpp.score(mbppItem, fenced("def add(a, b):\n    return a - b")), 0)
      assert.strictEqual(yield* mbpp.score(mbppItem, "I cannot solve this."), 0)
      assert.strictEqual(yield* mbpp.score(mbppItem, "```python\n```"), 0)
      // A solution that exits before the asserts does not pass.
      assert.strictEqual(
        yield* mbpp.score(mbppItem, fenced("import sys\ndef add(a, b):\n    return 0\nsys.exit(0)")),
        0
      )
    })
  )

  it.effect(
    "HumanEval-ET: a body, a full function without the prompt's imports, or prose + code all score 1",
    () =>
      Effect.gen(function* () {
        assert.strictEqual(yield* he.score(heItem, fenced("    return sum(xs)")), 1)
        assert.strictEqual(yield* he.score(heItem, "    return sum(xs)\n"), 1)
        assert.strictEqual(
          yield* he.score(heItem, fenced("def total(xs: List[int]) -> int:\n    return sum(xs)")),
          1
        )
        assert.strictEqual(yield* he.score(heItem, fenced("    pass")), 0)
        // Passing the original check but failing an extended assert is a failure.
        const onlyOriginal = "def total(xs):\n    return 3 if xs == [1, 2] else 0"
        assert.strictEqual(yield* he.score(heItem, fenced(onlyOriginal)), 0)
      })
  )

  it.effect("a malformed meta is a defect naming the item, not a score of 0", () =>
    Effect.gen(function* () {
      for (const [task, item] of [
        [mbpp, { ...mbppItem, meta: { tests: "assert True" } }],
        [mbpp, { ...mbppItem, meta: undefined }],
        [he, { ...heItem, meta: { entryPoint: "total", tests: [] } }]
      ] as const) {
        const exit = yield* Effect.exit(task.score(item, fenced("x = 1")))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          const defect = exit.cause.reasons.find(Cause.isDieReason)?.defect
          assert.instanceOf(defect, CodeMetaError)
          assert.include((defect as CodeMetaError).message, item.id)
        }
      }
    })
  )
})

describe("programs", () => {
  it("MBPP: imports and the candidate as source, the asserts as tests", () => {
    assert.deepStrictEqual(
      mbppProgram({ testImports: ["import math"], tests: ["assert f() == 1"] }, "def f():\n    return 1"),
      { source: "import math\ndef f():\n    return 1\n", tests: "assert f() == 1\n" }
    )
  })

  it("HumanEval-ET: prompt first; the body is appended to it, a full definition follows it", () => {
    const meta = heItem.meta as unknown as Parameters<typeof humanEvalEtProgram>[0]
    const body = humanEvalEtProgram(meta, "    return sum(xs)")
    assert.strictEqual(body.source, `${hePrompt}    return sum(xs)\n`)
    assert.isTrue(body.tests.startsWith(`${meta.test}\ncheck(total)\n`))
    assert.isTrue(body.tests.endsWith("assert total([5]) == 5\nassert total([1, 1, 1]) == 3\n"))
    const full = humanEvalEtProgram(meta, "def total(xs):\n    return sum(xs)")
    assert.strictEqual(full.source, `${hePrompt}\n\ndef total(xs):\n    return sum(xs)\n`)
  })

  it("HumanEval-ET: known defective extended asserts are dropped, the rest kept in order", () => {
    const base = { prompt: "", test: "", tests: [] as Array<string> }
    assert.deepStrictEqual(
      humanEvalEtExtendedTests({
        ...base,
        entryPoint: "add",
        tests: ["assert add(1, 2) == 3", "assert add(x, y) == x + y", "assert add(0, 0) == 0"]
      }),
      ["assert add(1, 2) == 3", "assert add(0, 0) == 0"]
    )
    assert.deepStrictEqual(
      humanEvalEtExtendedTests({
        ...base,
        entryPoint: "truncate_number",
        tests: ["assert truncate_number(3.5) == 0.5"]
      }),
      []
    )
  })

  it("definesFunction finds `def name(` at a line start only, for that exact name", () => {
    const ident = fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/)
    fc.assert(
      fc.property(
        ident,
        fc.string({ maxLength: 40 }).filter((s) => !s.includes("def")),
        (name, noise) => {
          assert.isTrue(definesFunction(`${noise}\ndef ${name}(x):\n    pass`, name))
          assert.isTrue(definesFunction(`    def ${name} (x): pass`, name))
          assert.isFalse(definesFunction(`${noise}\ndef ${name}_2(x): pass`, name))
          assert.isFalse(definesFunction(`x = ${name}(1)  # def ${name}(`, name))
        }
      )
    )
  })
})
