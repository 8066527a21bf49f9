import { assert, describe, it } from "@effect/vitest"
import type { TaskItem } from "@maspo/core"
import { Cause, Effect, Exit } from "effect"
import fc from "fast-check"
import {
  CodeMetaError,
  SandboxUnavailableError,
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

  it.effect("a sandbox that cannot start the interpreter is a defect naming the item, not a score of 0", () =>
    Effect.gen(function* () {
      const broken = mbppTask({
        sandbox: makeSandbox({ python: "/nonexistent/python3", isolation: "in-process" })
      })
      const exit = yield* Effect.exit(broken.score(mbppItem, fenced(mbppItem.gold)))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const defect = exit.cause.reasons.find(Cause.isDieReason)?.defect
        assert.instanceOf(defect, SandboxUnavailableError)
        assert.include((defect as SandboxUnavailableError).message, mbppItem.id)
      }
      // A working sandbox still scores the same solution: the defect is about the machine, not the answer.
      assert.strictEqual(yield* mbpp.score(mbppItem, fenced(mbppItem.gold)), 1)
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

describe("code tasks: values that fake their comparisons do not pass", () => {
  const item = (tests: ReadonlyArray<string>): TaskItem => ({
    ...mbppItem,
    meta: { testImports: [], tests }
  })
  const always =
    "class AlwaysEqual:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n        return False\n"

  it.effect(
    "MBPP: an always-equal object, alone, in a list, as an int or str subclass, or behind other dunders",
    () =>
      Effect.gen(function* () {
        for (const [tests, code] of [
          [["assert add(1, 2) == 3"], `${always}def add(a, b):\n    return AlwaysEqual()`],
          [["assert add(1, 2) == [3]"], `${always}def add(a, b):\n    return [AlwaysEqual()]`],
          [["assert add(1, 2) == {'a': 3}"], `${always}def add(a, b):\n    return {'a': AlwaysEqual()}`],
          [
            ["assert add(1, 2) == 3"],
            "class I(int):\n    def __eq__(self, o):\n        return True\ndef add(a, b):\n    return I(0)"
          ],
          [
            ["assert add(1, 2) == 'x'"],
            "class S(str):\n    __eq__ = lambda self, o: True\ndef add(a, b):\n    return S('y')"
          ],
          [
            ["assert str(add(1, 2)) == '3'"],
            "class T:\n    def __str__(self):\n        return '3'\ndef add(a, b):\n    return T()"
          ],
          [
            ["assert abs(add(1, 2) - 3) < 1e-9"],
            "class T:\n    def __sub__(self, o):\n        return 0\ndef add(a, b):\n    return T()"
          ],
          [
            ["assert add(1, 2)"],
            "class T:\n    def __bool__(self):\n        return True\ndef add(a, b):\n    return T()"
          ],
          [
            ["assert isinstance(add(1, 2), int) and add(1, 2) == 3"],
            `${always}class F(AlwaysEqual):\n    __class__ = int\ndef add(a, b):\n    return F()`
          ],
          [
            ["assert add(1, 2) == 3"],
            "import operator\nclass T:\n    __eq__ = operator.is_not\ndef add(a, b):\n    return T()"
          ],
          [
            ["assert add(1, 2) == 3"],
            "import typing\nclass T:\n    __eq__ = typing.cast\ndef add(a, b):\n    return T()"
          ],
          [
            ["assert add(1, 2) == 3"],
            "class M(type):\n    def __eq__(cls, o):\n        return True\nclass T(metaclass=M):\n    pass\ndef add(a, b):\n    return T"
          ],
          [["assert add(1, 2) == (3,)"], `${always}def add(a, b):\n    return {0: AlwaysEqual()}.values()`],
          // A comparison outside an assert is checked too.
          [
            ["if add(1, 2) != 3:\n    raise AssertionError"],
            `${always}def add(a, b):\n    return AlwaysEqual()`
          ],
          // Replacing a builtin does not reach the tests: they see the builtins as they were.
          [
            ["assert sorted(add(1, 2)) == [1, 2, 3]"],
            "import builtins\nbuiltins.sorted = lambda x: [1, 2, 3]\ndef add(a, b):\n    return [0]"
          ]
        ] as const) {
          const score = yield* mbpp.score(item(tests), fenced(code))
          assert.strictEqual(score, 0, `${tests.join("; ")} passed with:\n${code}`)
          // Refused by the check (or, for the replaced builtin, failed honestly), not by accident.
          const r = yield* sandbox.runPython(mbppProgram({ testImports: [], tests }, code))
          assert.strictEqual(r.status, "failed")
          assert.match(
            r.stderr,
            code.includes("builtins.sorted") ? /AssertionError\n$/ : /does not come from Python itself/,
            code
          )
        }
      })
  )

  it.effect("MBPP: legitimate results of the standard library's types still pass", () =>
    Effect.gen(function* () {
      for (const [tests, code] of [
        [["assert f() == 3"], "def f():\n    return 3.0"],
        [["assert f() == 1"], "def f():\n    return True"],
        [
          ["assert f() == {'a': 2, 'b': 1}"],
          "from collections import Counter\ndef f():\n    return Counter('aab')"
        ],
        [
          ["assert f() == {1: [2]}"],
          "from collections import defaultdict\ndef f():\n    d = defaultdict(list)\n    d[1].append(2)\n    return d"
        ],
        [
          ["assert f() == (1, 2)"],
          "from collections import namedtuple\nP = namedtuple('P', 'x y')\ndef f():\n    return P(1, 2)"
        ],
        [["assert f() == {1, 2}"], "def f():\n    return frozenset([1, 2])"],
        [["assert list(f()) == [1, 2]"], "from collections import deque\ndef f():\n    return deque([1, 2])"],
        [["assert f() == 0.5"], "from fractions import Fraction\ndef f():\n    return Fraction(1, 2)"],
        [
          ["assert f() == 2"],
          "from enum import IntEnum\nclass C(IntEnum):\n    A = 2\ndef f():\n    return C.A"
        ],
        [
          ["assert f().x == 1"],
          "class P:\n    def __init__(self):\n        self.x = 1\ndef f():\n    return P()"
        ],
        [["assert f() == [[1, 'a'], (2.5, None)]"], "def f():\n    return [[1, 'a'], (2.5, None)]"],
        [["assert math.isclose(f(), 0.3)"], "import math\ndef f():\n    return 0.1 + 0.2"],
        // Decorated (reprlib), helper-made (Fraction) and total_ordering methods of the standard library.
        [["assert f() == {1: 2}"], "import collections\ndef f():\n    return collections.ChainMap({1: 2})"],
        [
          ["assert f() == ipaddress.ip_address('1.2.3.4')", "assert f() > ipaddress.ip_address('1.2.3.3')"],
          "import ipaddress\ndef f():\n    return ipaddress.ip_address('1.2.3.4')"
        ],
        [
          ["assert str(f()) == '2020-01-02'"],
          "import datetime\ndef f():\n    return datetime.date(2020, 1, 2)"
        ],
        [["assert f() == 1.5"], "import decimal\ndef f():\n    return decimal.Decimal('1.5')"]
      ] as const) {
        const score = yield* mbpp.score(item(tests), fenced(code))
        assert.strictEqual(score, 1, `${tests.join("; ")} failed with:\n${code}`)
      }
    })
  )

  it.effect("HumanEval-ET: an always-equal object fails check(candidate) and the extended asserts", () =>
    Effect.gen(function* () {
      const code = `${always}def total(xs):\n    return AlwaysEqual()`
      assert.strictEqual(yield* he.score(heItem, fenced(code)), 0)
      const onlyExtended = {
        ...heItem,
        meta: { ...(heItem.meta as object), test: "def check(c):\n    pass\n" }
      }
      assert.strictEqual(yield* he.score(onlyExtended, fenced(code)), 0)
    })
  )

  it.effect(
    "property: every builtin value passes `assert f() == v`, and the same value behind a fake __eq__ fails",
    () =>
      Effect.gen(function* () {
        // Python literals of JSON values: one run checks a batch of them.
        const literal = (v: unknown): string =>
          v === null
            ? "None"
            : typeof v === "boolean"
              ? v
                ? "True"
                : "False"
              : typeof v === "number"
                ? String(v)
                : typeof v === "string"
                  ? JSON.stringify(v)
                  : Array.isArray(v)
                    ? `[${v.map(literal).join(", ")}]`
                    : `{${Object.entries(v as object)
                        .map(([k, x]) => `${JSON.stringify(k)}: ${literal(x)}`)
                        .join(", ")}}`
        const values = fc.sample(
          fc.jsonValue({ maxDepth: 3 }).filter((v) => !JSON.stringify(v).includes("e")),
          { numRuns: 40, seed: 12 }
        )
        const tests = values.map((v, i) => `assert f(${i}) == ${literal(v)}`)
        const table = `VALUES = [${values.map(literal).join(", ")}]`
        assert.strictEqual(
          yield* mbpp.score(item(tests), fenced(`${table}\ndef f(i):\n    return VALUES[i]`)),
          1
        )
        // Each value with one element swapped for an always-equal object (or the value itself replaced).
        const fake = `${always}def fake(v):\n    if isinstance(v, list) and v:\n        return v[:-1] + [AlwaysEqual()]\n    if isinstance(v, dict) and v:\n        k = next(iter(v))\n        return {**v, k: AlwaysEqual()}\n    return AlwaysEqual()\n`
        for (const [i] of values.entries()) {
          const score = yield* mbpp.score(
            item([tests[i]!]),
            fenced(`${table}\n${fake}def f(i):\n    return fake(VALUES[i])`)
          )
          assert.strictEqual(score, 0, tests[i])
        }
      })
  )
})
