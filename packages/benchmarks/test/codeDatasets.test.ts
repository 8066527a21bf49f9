import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import type { TaskItem } from "@maspo/core"
import { Effect } from "effect"
import {
  HUMANEVAL_ET_DEFECTS,
  type HumanEvalEtMeta,
  humanEvalEtSolution,
  humanEvalEtTask,
  makeSandbox,
  type MbppMeta,
  mbppTask
} from "../src/code/index.ts"

/**
 * Every canonical solution of both datasets must pass its tests through the task's scorer, and every
 * solution whose function bodies are replaced by `pass` must fail. Items where the dataset itself is
 * wrong are listed here with the reason, and the test asserts the lists are exactly what fails.
 */
const MBPP_CANONICAL_FAILS: Readonly<Record<string, string>> = {}
const MBPP_STUB_PASSES: Readonly<Record<string, string>> = {}
const HUMANEVAL_ET_CANONICAL_FAILS: Readonly<Record<string, string>> = {}
const HUMANEVAL_ET_STUB_PASSES: Readonly<Record<string, string>> = {}
/**
 * Items whose canonical solution fails the extended asserts when only the slow ones are dropped: exactly
 * the items of HUMANEVAL_ET_DEFECTS.skipExtended and .brokenAsserts.
 */
const HUMANEVAL_ET_UNFILTERED_FAILS = [
  "HumanEval/2",
  "HumanEval/38",
  "HumanEval/44",
  "HumanEval/50",
  "HumanEval/53",
  "HumanEval/151"
]

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url))
const dataDir = process.env.MASPO_DATA_DIR ?? `${repoRoot}../shared/datasets`
const readJsonl = (path: string): Array<Record<string, unknown>> =>
  readFileSync(`${dataDir}/${path}`, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>)

interface MbppRow {
  task_id: number
  prompt: string
  code: string
  test_imports: Array<string>
  test_list: Array<string>
}
interface HumanEvalEtRow {
  task_id: string
  prompt: string
  entry_point: string
  canonical_solution: string
  test: string
  test_list: Array<string>
}

const mbppRows = readJsonl("mbpp/sanitized-mbpp.jsonl") as unknown as Array<MbppRow>
const heRows = readJsonl("humaneval-et/HumanEval_ET.jsonl") as unknown as Array<HumanEvalEtRow>

const mbppItem = (r: MbppRow): TaskItem => ({
  id: String(r.task_id),
  question: r.prompt,
  gold: r.code,
  meta: { testImports: r.test_imports, tests: r.test_list } satisfies MbppMeta
})
const heMeta = (r: HumanEvalEtRow): HumanEvalEtMeta => ({
  entryPoint: r.entry_point,
  test: r.test,
  tests: r.test_list,
  prompt: r.prompt
})
const heItem = (r: HumanEvalEtRow): TaskItem => ({
  id: r.task_id,
  question: r.prompt,
  gold: r.canonical_solution,
  meta: heMeta(r)
})

/** Replaces the body of every function (and method) with `pass`, via Python's ast. */
const STUB_SCRIPT = `
import ast, json, sys
class Stub(ast.NodeTransformer):
    def visit_FunctionDef(self, node):
        node.body = [ast.Pass()]
        return node
    visit_AsyncFunctionDef = visit_FunctionDef
codes = json.load(sys.stdin)
json.dump([ast.unparse(Stub().visit(ast.parse(c))) for c in codes], sys.stdout)
`
const stubAll = (codes: ReadonlyArray<string>): Array<string> =>
  JSON.parse(
    execFileSync("python3", ["-c", STUB_SCRIPT], { input: JSON.stringify(codes) }).toString()
  ) as Array<string>

const fenced = (code: string) => `Solution:\n\`\`\`python\n${code}\n\`\`\`\n`
// Short programs dominated by interpreter start-up: more runs than cores keeps the CPU busy.
const sandbox = makeSandbox({ concurrency: Math.max(4, availableParallelism() * 2) })
// Scoring limits are 10 s (MBPP) and 15 s (HumanEval-ET); the slowest reference solutions need about
// 3 s (MBPP 123) and 4.5 s (HumanEval/147) of CPU. The wall-clock limit here is only a guard against hangs: CI runs other test
// files at the same time, and a starved run must not turn into a spurious failure.
const run = { timeoutMs: 60_000 }

const failingIds = (
  items: ReadonlyArray<TaskItem>,
  replies: ReadonlyArray<string>,
  score: (item: TaskItem, reply: string) => Effect.Effect<number>,
  want: 0 | 1
) =>
  Effect.forEach(
    items,
    (item, i) => score(item, replies[i]!).pipe(Effect.map((s) => (s === want ? [] : [item.id]))),
    {
      concurrency: "unbounded"
    }
  ).pipe(Effect.map((ids) => ids.flat().sort()))

describe("code datasets: canonical solutions pass, stubs fail", () => {
  it("loads the full datasets", () => {
    assert.strictEqual(mbppRows.length, 427)
    assert.strictEqual(heRows.length, 164)
  })

  it.effect(
    "MBPP (427): every canonical solution passes and every `pass` stub fails",
    () =>
      Effect.gen(function* () {
        const task = mbppTask({ sandbox, run })
        const items = mbppRows.map(mbppItem)
        const stubs = stubAll(mbppRows.map((r) => r.code))
        assert.strictEqual(stubs.length, items.length)
        const [canonicalFails, stubPasses] = yield* Effect.all(
          [
            failingIds(
              items,
              mbppRows.map((r) => fenced(r.code)),
              task.score,
              1
            ),
            failingIds(items, stubs.map(fenced), task.score, 0)
          ],
          { concurrency: 2 }
        )
        assert.deepStrictEqual(canonicalFails, Object.keys(MBPP_CANONICAL_FAILS).sort())
        assert.deepStrictEqual(stubPasses, Object.keys(MBPP_STUB_PASSES).sort())
      }),
    300_000
  )

  it.effect(
    "HumanEval-ET (164): canonical bodies and full functions pass, `pass` bodies fail",
    () =>
      Effect.gen(function* () {
        const task = humanEvalEtTask({ sandbox, run })
        const items = heRows.map(heItem)
        const [bodyFails, fullFails, stubPasses] = yield* Effect.all(
          [
            failingIds(
              items,
              heRows.map((r) => r.canonical_solution),
              task.score,
              1
            ),
            failingIds(
              items,
              heRows.map((r) => fenced(r.prompt + r.canonical_solution)),
              task.score,
              1
            ),
            failingIds(
              items,
              heRows.map(() => "    pass\n"),
              task.score,
              0
            )
          ],
          { concurrency: 3 }
        )
        assert.deepStrictEqual(bodyFails, Object.keys(HUMANEVAL_ET_CANONICAL_FAILS).sort())
        assert.deepStrictEqual(fullFails, Object.keys(HUMANEVAL_ET_CANONICAL_FAILS).sort())
        assert.deepStrictEqual(stubPasses, Object.keys(HUMANEVAL_ET_STUB_PASSES).sort())
      }),
    300_000
  )

  it.effect(
    "HumanEval-ET: the extended asserts are test_list, and the known defects are exactly what fails unfiltered",
    () =>
      Effect.gen(function* () {
        // test_list is the extended set: it is longer than the original check for every item.
        for (const r of heRows) {
          const original = (r.test.match(/assert /g) ?? []).length
          assert.isAbove(r.test_list.length, original, r.task_id)
        }
        const unfiltered = (r: HumanEvalEtRow, tests: ReadonlyArray<string>) =>
          [humanEvalEtSolution(heMeta(r), r.canonical_solution), ...tests].join("\n") + "\n"
        const notSlow = (tests: ReadonlyArray<string>) =>
          tests.filter((t) => !Object.hasOwn(HUMANEVAL_ET_DEFECTS.slowAsserts, t))
        const results = yield* Effect.forEach(
          heRows,
          (r) =>
            sandbox
              .runPython(unfiltered(r, notSlow(r.test_list)), run)
              .pipe(Effect.map((res) => (res.status === "passed" ? [] : [r.task_id]))),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(results.flat().sort(), [...HUMANEVAL_ET_UNFILTERED_FAILS].sort())

        // Every listed slow assert belongs to some item (a typo would silently drop nothing).
        for (const assertion of Object.keys(HUMANEVAL_ET_DEFECTS.slowAsserts))
          assert.isTrue(
            heRows.some((r) => r.test_list.includes(assertion)),
            `no item has ${assertion}`
          )

        // Each listed broken assert fails on its own against a canonical solution (NameError), and
        // each skipped entry point's canonical solution fails some extended assert.
        const byEntry = new Map(heRows.map((r) => [r.entry_point, r]))
        for (const assertion of Object.keys(HUMANEVAL_ET_DEFECTS.brokenAsserts)) {
          const owners = heRows.filter((r) => r.test_list.includes(assertion))
          assert.isAbove(owners.length, 0, `no item has ${assertion}`)
          for (const r of owners) {
            const res = yield* sandbox.runPython(unfiltered(r, [assertion]), run)
            assert.strictEqual(res.status, "failed", `${r.task_id}: ${assertion}`)
            assert.include(res.stderr, "NameError")
          }
        }
        for (const entry of Object.keys(HUMANEVAL_ET_DEFECTS.skipExtended)) {
          const r = byEntry.get(entry)
          assert.isDefined(r, entry)
          const res = yield* sandbox.runPython(unfiltered(r!, notSlow(r!.test_list)), run)
          assert.strictEqual(res.status, "failed", entry)
        }
      }),
    300_000
  )
})
