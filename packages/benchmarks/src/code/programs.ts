import { Schema } from "effect"
import type { PythonProgram, RunOptions } from "./sandbox.ts"

/** `TaskItem.meta` of an MBPP item (set by the dataset loader). */
export const MbppMeta = Schema.Struct({
  /** Import lines the tests need (`test_imports`), run before the candidate. */
  testImports: Schema.Array(Schema.String),
  /** The `assert` statements (`test_list`). */
  tests: Schema.Array(Schema.String)
})
export type MbppMeta = typeof MbppMeta.Type

/** `TaskItem.meta` of a HumanEval-ET item (set by the dataset loader). */
export const HumanEvalEtMeta = Schema.Struct({
  entryPoint: Schema.String,
  /** The original HumanEval test: defines `check(candidate)`. */
  test: Schema.String,
  /** HumanEval-ET's extended `assert` statements (`test_list`, ~100 an item, calling the entry point by name). */
  tests: Schema.Array(Schema.String),
  /** Signature and docstring (plus any helpers and imports) the model completes. */
  prompt: Schema.String
})
export type HumanEvalEtMeta = typeof HumanEvalEtMeta.Type

/** How a code dataset turns an item's meta and a candidate into one Python program. */
export interface ProgramBuilder<M> {
  readonly dataset: string
  readonly meta: Schema.Decoder<M>
  /** The candidate (with what it needs) as `source`, the dataset's tests as `tests`. */
  readonly program: (meta: M, code: string) => PythonProgram
  /** Sandbox limits for this dataset's programs (a task's `run` option overrides them). */
  readonly run: RunOptions
}

/** MBPP: test imports and the candidate, then the asserts. */
export const mbppProgram = (meta: MbppMeta, code: string): PythonProgram => ({
  source: [...meta.testImports, code].join("\n") + "\n",
  tests: meta.tests.join("\n") + "\n"
})

export const mbppBuilder: ProgramBuilder<MbppMeta> = {
  dataset: "mbpp",
  meta: MbppMeta,
  program: mbppProgram,
  // The slowest reference solution (task 123, amicable numbers to 9999) needs ~3 s of CPU.
  run: { timeoutMs: 10_000 }
}

/**
 * Known defects of HumanEval-ET's extended asserts, found by running every canonical solution
 * (test/codeDatasets.test.ts pins that each listed assert really fails on its canonical solution and
 * that nothing else does). Dropped asserts are skipped when scoring; the original `check` always runs.
 */
export const HUMANEVAL_ET_DEFECTS = {
  /** Entry points whose extended asserts are skipped entirely (only the original `check` runs). */
  skipExtended: {
    // HumanEval/2: the extended asserts compare floats with == (`truncate_number(3.452) == 0.452`);
    // the canonical `number % 1.0` fails 86 of the 103.
    truncate_number:
      "HumanEval/2: extended asserts compare floats exactly; the canonical solution fails 86 of 103"
  } as Readonly<Record<string, string>>,
  /** Single extended asserts that use a name the test never defines (NameError on any solution). */
  brokenAsserts: {
    "assert decode_cyclic(encoded_str) == str": "HumanEval/38: encoded_str is undefined",
    "assert change_base(x, x + 1) == str(x)": "HumanEval/44: x is undefined",
    "assert decode_shift(copy.deepcopy(encoded_str)) == str":
      "HumanEval/50: copy and encoded_str are undefined",
    "assert add(x, y) == x + y": "HumanEval/53: x and y are undefined",
    "assert double_the_difference(lst) == odd_sum ": "HumanEval/151: lst and odd_sum are undefined"
  } as Readonly<Record<string, string>>,
  /**
   * Correct asserts on inputs so large that the reference solution itself (naive recursion, trial
   * division) needs ~0.3-15 s each (prime_fib(12) alone takes ~15 s). A plain correct solution would
   * time out on them, so they measure speed rather than correctness; they are dropped.
   */
  slowAsserts: Object.fromEntries(
    [
      ["HumanEval/39", ["assert prime_fib(12) == 99194853094755497"]],
      [
        "HumanEval/63",
        [
          "assert fibfib(26) == 1389537",
          "assert fibfib(27) == 2555757",
          "assert fibfib(28) == 4700770",
          "assert fibfib(29) == 8646064",
          "assert fibfib(30) == 15902591"
        ]
      ],
      [
        "HumanEval/55",
        [
          "assert fib(32) == 2178309",
          "assert fib(33) == 3524578",
          "assert fib(34) == 5702887",
          "assert fib(35) == 9227465"
        ]
      ]
    ].flatMap(([id, asserts]) =>
      (asserts as ReadonlyArray<string>).map((a) => [a, `${String(id)}: too slow for the reference solution`])
    )
  ) as Readonly<Record<string, string>>
}

/** The extended asserts that scoring runs: the item's `tests` minus the known defects. */
export const humanEvalEtExtendedTests = (meta: HumanEvalEtMeta): ReadonlyArray<string> =>
  Object.hasOwn(HUMANEVAL_ET_DEFECTS.skipExtended, meta.entryPoint)
    ? []
    : meta.tests.filter(
        (t) =>
          !Object.hasOwn(HUMANEVAL_ET_DEFECTS.brokenAsserts, t) &&
          !Object.hasOwn(HUMANEVAL_ET_DEFECTS.slowAsserts, t)
      )

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Whether the code defines the entry point itself (`def <entryPoint>(` at the start of a line). */
export const definesFunction = (code: string, name: string): boolean =>
  new RegExp(`^[ \\t]*(async[ \\t]+)?def[ \\t]+${escapeRegExp(name)}[ \\t]*\\(`, "m").test(code)

/**
 * The candidate as a complete module. The prompt always comes first: it holds the imports and helper
 * functions (`encode_cyclic`, `poly`, ...) the tests and a full solution may rely on, and it is itself
 * valid Python (the signature with its docstring as body). A candidate that defines the entry point
 * then redefines it; a candidate that does not is taken to be the body and appended to the prompt.
 */
export const humanEvalEtSolution = (meta: HumanEvalEtMeta, code: string): string =>
  definesFunction(code, meta.entryPoint) ? `${meta.prompt}\n\n${code}` : `${meta.prompt}${code}`

/**
 * HumanEval-ET: the solution; then the original test and `check(<entryPoint>)`, and the extended
 * asserts (minus `HUMANEVAL_ET_DEFECTS`).
 */
export const humanEvalEtProgram = (meta: HumanEvalEtMeta, code: string): PythonProgram => ({
  source: humanEvalEtSolution(meta, code) + "\n",
  tests: [meta.test, `check(${meta.entryPoint})`, ...humanEvalEtExtendedTests(meta)].join("\n") + "\n"
})

export const humanEvalEtBuilder: ProgramBuilder<HumanEvalEtMeta> = {
  dataset: "humaneval-et",
  meta: HumanEvalEtMeta,
  program: humanEvalEtProgram,
  // ~100 asserts an item: the slowest reference solutions (HumanEval/147, /59) need ~4.5 s and ~2.5 s of CPU.
  run: { timeoutMs: 15_000 }
}
