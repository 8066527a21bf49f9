import { assert, describe, it } from "@effect/vitest"
import { type BudgetReport, emptyTally, mean } from "@maspo/core"
import {
  accuracyTables,
  AVERAGE_COLUMN,
  type CellResult,
  costTables,
  csvField,
  escapeLatex,
  escapeMarkdown,
  findRow,
  renderCsvLong,
  renderTable,
  type ResultsSummary,
  summarizeCellsLenient
} from "@maspo/core/results"
import fc from "fast-check"

// ------------------------------------------------------------------ parsers (the inverse of the renderers)

const splitUnescaped = (line: string, sep: string): Array<string> => {
  const out: Array<string> = []
  let cur = ""
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (c === "\\" && i + 1 < line.length) {
      cur += c + line[i + 1]!
      i++
    } else if (c === sep) {
      out.push(cur)
      cur = ""
    } else cur += c
  }
  out.push(cur)
  return out
}

const unescapeMarkdown = (s: string): string => s.replace(/\\(.)/g, "$1")

interface ParsedTable {
  readonly title: string
  readonly header: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
}

const parseMarkdown = (md: string): Array<ParsedTable> => {
  const tables: Array<ParsedTable> = []
  let current: { title: string; lines: Array<Array<string>> } | undefined
  const flush = () => {
    if (current !== undefined) {
      const [header, , ...rows] = current.lines
      tables.push({ title: current.title, header: header ?? [], rows })
    }
  }
  for (const line of md.split("\n")) {
    if (line.startsWith("### ")) {
      flush()
      current = { title: unescapeMarkdown(line.slice(4)), lines: [] }
    } else if (line.startsWith("| ") && current !== undefined) {
      const cells = splitUnescaped(line.slice(2, -2), "|").map((c) => unescapeMarkdown(c.trim()))
      current.lines.push(cells)
    }
  }
  flush()
  return tables
}

/** RFC 4180 parser. */
const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"'
        i += 2
      } else if (c === '"') {
        quoted = false
        i++
      } else {
        field += c
        i++
      }
    } else if (c === '"') {
      quoted = true
      i++
    } else if (c === ",") {
      row.push(field)
      field = ""
      i++
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field)
      rows.push(row)
      row = []
      field = ""
      i += 2
    } else {
      field += c
      i++
    }
  }
  if (field !== "" || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  return rows
}

const LATEX_BACK: ReadonlyArray<readonly [string, string]> = [
  ["\\textbackslash{}", "\\"],
  ["\\textasciitilde{}", "~"],
  ["\\textasciicircum{}", "^"],
  ["\\textbar{}", "|"],
  ["\\textless{}", "<"],
  ["\\textgreater{}", ">"],
  ["\\{", "{"],
  ["\\}", "}"],
  ["\\_", "_"],
  ["\\%", "%"],
  ["\\&", "&"],
  ["\\#", "#"],
  ["\\$", "$"]
]

const unescapeLatex = (s: string): string => {
  let out = ""
  let i = 0
  outer: while (i < s.length) {
    for (const [from, to] of LATEX_BACK)
      if (s.startsWith(from, i)) {
        out += to
        i += from.length
        continue outer
      }
    out += s[i]
    i++
  }
  return out
}

/** The LaTeX text has no special character outside an escape sequence. */
const latexIsClean = (s: string): boolean => {
  let rest = s
  for (const [from] of LATEX_BACK) rest = rest.split(from).join("")
  return !/[\\{}_%&#$~^|<>]/.test(rest)
}

const parseLatex = (tex: string): Array<ParsedTable> =>
  tex
    .split("\\begin{table}")
    .slice(1)
    .map((block) => {
      const lines = block.split("\n")
      const top = lines.indexOf("\\toprule")
      const mid = lines.indexOf("\\midrule")
      const bottom = lines.indexOf("\\bottomrule")
      const row = (l: string) =>
        l
          .replace(/ \\\\$/, "")
          .split(/(?<!\\)&/)
          .map((c) => unescapeLatex(c.trim()))
      return {
        title: "",
        header: row(lines[top + 1]!),
        rows: lines.slice(mid + 1, bottom).map(row)
      }
    })

// ------------------------------------------------------------------ generated experiments

const budget = (calls: number): BudgetReport => ({
  agent: { ...emptyTally, calls, promptTokens: 7 * calls, completionTokens: 3 * calls },
  optimizer: { ...emptyTally, calls: 2 * calls },
  evaluator: emptyTally
})

/** Names full of characters that need escaping somewhere; no newlines; trimmed; not a column we add. */
const nameArb = fc
  .string({
    unit: fc.constantFrom(
      "a",
      "b",
      "Z",
      "1",
      "_",
      "%",
      "&",
      "#",
      "|",
      ",",
      '"',
      " ",
      "\\",
      "$",
      "{",
      "}",
      "~",
      "^",
      "*",
      "<",
      "-"
    ),
    minLength: 1,
    maxLength: 8
  })
  .map((s) => s.trim())
  .filter(
    (s) =>
      s.length > 0 &&
      s !== AVERAGE_COLUMN &&
      s !== "Method" &&
      s !== "Task" &&
      s !== "topology" &&
      !s.endsWith("(paper)")
  )

const experimentArb = fc
  .record({
    topologies: fc.uniqueArray(nameArb, { minLength: 1, maxLength: 2 }),
    tasks: fc.uniqueArray(nameArb, { minLength: 1, maxLength: 3 }),
    methods: fc.uniqueArray(nameArb, { minLength: 1, maxLength: 4 }),
    seeds: fc.integer({ min: 1, max: 2 }),
    present: fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }),
    bits: fc.array(fc.boolean(), { minLength: 16, maxLength: 16 })
  })
  .map(({ topologies, tasks, methods, seeds, present, bits }) => {
    const cells: Array<CellResult> = []
    let k = 0
    let b = 0
    for (const topology of topologies)
      for (const task of tasks)
        for (const method of methods) {
          // Some (method, task) cells are missing; the first method always runs everything.
          if (method !== methods[0] && !present[k++ % present.length]) continue
          for (let seed = 0; seed < seeds; seed++) {
            const scores = Array.from({ length: 4 }, () => (bits[b++ % bits.length] ? 1 : 0))
            cells.push({
              topology,
              task,
              method,
              seed,
              testItemIds: ["a", "b", "c", "d"],
              scores,
              accuracy: mean(scores),
              budget: budget(5 + seed)
            })
          }
        }
    return { cells, seedMethod: methods[0]! }
  })

const summarize = (cells: ReadonlyArray<CellResult>, seedMethod: string): ResultsSummary => {
  const s = summarizeCellsLenient(cells, { seed: 1, resamples: 30, seedMethod })
  assert.deepStrictEqual(s.mismatches, [])
  return s
}

const STAT = /^(\*\*|\\textbf\{)?\d+\.\d( ± | \$\\pm\$ )\d+\.\d(\*\*|\})?([†‡]|\$\^\{\\d?dagger\}\$)*$/

/** Each (method, task) of the summary: exactly one row with the method, one column with the task, a stat there; "–" elsewhere. */
const checkAccuracyTable = (summary: ResultsSummary, topology: string, t: ParsedTable, empty: string) => {
  const methods = summary.methods[topology] ?? []
  const tasks = summary.tasks[topology] ?? []
  assert.deepStrictEqual(t.header[0], "Method")
  for (const task of [...tasks, AVERAGE_COLUMN])
    assert.strictEqual(t.header.filter((h) => h === task).length, 1, task)
  assert.strictEqual(t.rows.length, methods.length)
  for (const method of methods) {
    const rows = t.rows.filter((r) => r[0] === method)
    assert.strictEqual(rows.length, 1, `row of ${method}`)
    for (const task of tasks) {
      const cell = rows[0]![t.header.indexOf(task)]!
      if (findRow(summary, topology, method, task) === undefined) assert.strictEqual(cell, empty)
      else assert.match(cell, STAT, `${method} / ${task}`)
    }
  }
}

describe("table renderers", () => {
  it("property: Markdown has every (method, task) cell exactly once, names escaped", () => {
    fc.assert(
      fc.property(experimentArb, ({ cells, seedMethod }) => {
        const summary = summarize(cells, seedMethod)
        const tables = parseMarkdown(renderTable(summary, { format: "markdown" }))
        assert.strictEqual(tables.length, summary.topologies.length)
        summary.topologies.forEach((topology, i) => {
          assert.strictEqual(tables[i]!.title, `Accuracy: ${topology}`)
          checkAccuracyTable(summary, topology, tables[i]!, "–")
        })
        const costs = parseMarkdown(renderTable(summary, { format: "markdown", kind: "costs" }))
        summary.topologies.forEach((topology, i) => {
          for (const row of summary.rows.filter((r) => r.topology === topology))
            assert.strictEqual(
              costs[i]!.rows.filter((r) => r[0] === row.method && r[1] === row.task).length,
              1
            )
          assert.strictEqual(
            costs[i]!.rows.length,
            summary.rows.filter((r) => r.topology === topology).length
          )
        })
      }),
      { numRuns: 60 }
    )
  })

  it("property: CSV has every (topology, method, task) cell exactly once and parses back", () => {
    fc.assert(
      fc.property(experimentArb, ({ cells, seedMethod }) => {
        const summary = summarize(cells, seedMethod)
        const rows = parseCsv(renderTable(summary, { format: "csv" }))
        const [header, ...body] = rows
        assert.strictEqual(header![0], "topology")
        assert.strictEqual(header![1], "Method")
        for (const r of body) assert.strictEqual(r.length, header!.length)
        for (const topology of summary.topologies) {
          for (const method of summary.methods[topology] ?? []) {
            const mine = body.filter((r) => r[0] === topology && r[1] === method)
            assert.strictEqual(mine.length, 1)
            for (const task of summary.tasks[topology] ?? []) {
              const cell = mine[0]![header!.indexOf(task)]!
              if (findRow(summary, topology, method, task) === undefined) assert.strictEqual(cell, "")
              else assert.match(cell, STAT)
            }
          }
        }
        assert.strictEqual(
          body.length,
          summary.topologies.reduce((n, t) => n + (summary.methods[t] ?? []).length, 0)
        )
        // The cost table: one line per (method, task) of the summary.
        const long = parseCsv(renderTable(summary, { format: "csv", kind: "costs" }))
        assert.strictEqual(long.length - 1, summary.rows.length)
      }),
      { numRuns: 60 }
    )
  })

  it("property: JSON has every (method, task) cell exactly once with its numbers", () => {
    fc.assert(
      fc.property(experimentArb, ({ cells, seedMethod }) => {
        const summary = summarize(cells, seedMethod)
        const json = JSON.parse(renderTable(summary, { format: "json" })) as {
          tables: Array<{
            topology: string
            rows: Array<{ method: string; cells: Array<{ task: string; accuracy: number }> }>
          }>
        }
        const seen = new Map<string, number>()
        for (const t of json.tables)
          for (const r of t.rows)
            for (const c of r.cells) {
              if (c.task === AVERAGE_COLUMN) continue
              const k = JSON.stringify([t.topology, r.method, c.task])
              seen.set(k, (seen.get(k) ?? 0) + 1)
              assert.strictEqual(c.accuracy, findRow(summary, t.topology, r.method, c.task)!.accuracy)
            }
        assert.strictEqual(seen.size, summary.rows.length)
        for (const row of summary.rows)
          assert.strictEqual(seen.get(JSON.stringify([row.topology, row.method, row.task])), 1)
      }),
      { numRuns: 60 }
    )
  })

  it("property: LaTeX escapes names and has every (method, task) cell exactly once", () => {
    fc.assert(
      fc.property(experimentArb, ({ cells, seedMethod }) => {
        const summary = summarize(cells, seedMethod)
        const tex = renderTable(summary, { format: "latex" })
        const tables = parseLatex(tex)
        assert.strictEqual(tables.length, summary.topologies.length)
        summary.topologies.forEach((topology, i) => checkAccuracyTable(summary, topology, tables[i]!, "--"))
        for (const line of tex.split("\n"))
          if (!line.startsWith("\\") && !line.startsWith("%") && line !== "")
            for (const cell of line.replace(/ \\\\$/, "").split(/(?<!\\)&/))
              // Stat cells are ours ($\pm$, \textbf, daggers); every other cell is escaped text.
              if (!STAT.test(cell.trim()) && cell.trim() !== "--") assert.isTrue(latexIsClean(cell), cell)
        assert.include(tex, "\\toprule")
        assert.include(tex, "\\bottomrule")
      }),
      { numRuns: 60 }
    )
  })

  it("property: escapeLatex leaves no special character and reverses", () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(
            "_",
            "%",
            "&",
            "#",
            "\\",
            "$",
            "{",
            "}",
            "~",
            "^",
            "|",
            "<",
            ">",
            "a",
            " ",
            "t"
          )
        }),
        (s) => {
          const e = escapeLatex(s)
          assert.isTrue(latexIsClean(e))
          assert.strictEqual(unescapeLatex(e), s)
        }
      )
    )
    assert.strictEqual(escapeLatex("a_b%c&d#e"), "a\\_b\\%c\\&d\\#e")
  })

  it("property: CSV fields are quoted when needed and parse back", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(",", '"', "\n", "\r", " ", "x") })),
          { minLength: 1, maxLength: 5 }
        ),
        (fields) => {
          const line = fields.map(csvField).join(",") + "\r\n"
          assert.deepStrictEqual(parseCsv(line), [fields.length === 1 && fields[0] === "" ? [""] : fields])
        }
      )
    )
    assert.strictEqual(csvField('say "hi", ok'), '"say ""hi"", ok"')
    assert.strictEqual(csvField("plain"), "plain")
  })

  it("property: Markdown escaping keeps a name in one cell and reverses", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !/[\r\n]/.test(s)),
        (s) => {
          const e = escapeMarkdown(s)
          assert.strictEqual(splitUnescaped(e, "|").length, 1)
          assert.strictEqual(unescapeMarkdown(e), s)
        }
      )
    )
  })
})

describe("table layout", () => {
  const cells: Array<CellResult> = []
  const add = (task: string, method: string, seed: number, scores: ReadonlyArray<number>) =>
    cells.push({
      topology: "chain",
      task,
      method,
      seed,
      testItemIds: scores.map((_, i) => `q${i}`),
      scores,
      accuracy: mean(scores),
      budget: budget(10)
    })
  // 10 seeds x 40 items; "maspo" fixes every failure of the seed MAS, "ape" fixes none.
  for (let seed = 0; seed < 10; seed++)
    for (const task of ["gsm8k", "math_500"]) {
      const base = Array.from({ length: 40 }, (_, i) => ((i + seed) % 2 === 0 ? 1 : 0))
      add(task, "seed", seed, base)
      add(
        task,
        "maspo",
        seed,
        base.map(() => 1)
      )
      add(task, "ape", seed, base)
      add(
        task,
        "maspo-no-lookahead",
        seed,
        base.map((x, i) => (i % 4 === 0 ? 1 : x))
      )
    }
  const summary = summarizeCellsLenient(cells, {
    seed: 2,
    resamples: 300,
    ours: ["maspo", "maspo-no-lookahead"]
  })

  it("marks significant improvements over the seed MAS and the best baseline, and bolds the best", () => {
    const md = renderTable(summary, { format: "markdown", methods: ["seed", "ape", "maspo"] })
    const [t] = parseMarkdown(md)
    const maspo = t!.rows.find((r) => r[0] === "maspo")!
    assert.strictEqual(maspo[1], "**100.0 ± 0.0**†‡")
    assert.match(t!.rows.find((r) => r[0] === "ape")![1]!, /^50\.0 ± \d+\.\d$/)
    assert.deepStrictEqual(t!.header, ["Method", "gsm8k", "math_500", AVERAGE_COLUMN])
    assert.include(md, "† significantly better than the unoptimized MAS (seed)")
    assert.include(md, "‡ significantly better than the best baseline")
    const tex = renderTable(summary, { format: "latex", methods: ["seed", "ape", "maspo"] })
    assert.include(tex, "\\textbf{100.0 $\\pm$ 0.0}$^{\\dagger}$$^{\\ddagger}$")
    assert.include(tex, "math\\_500")
    assert.include(tex, "\\begin{tabular}{lrrr}")
  })

  it("shows the paper's numbers beside ours only when given, and only those given", () => {
    const paper = { maspo: { gsm8k: 91.2, [AVERAGE_COLUMN]: 80.5 } }
    const [t] = parseMarkdown(renderTable(summary, { format: "markdown", methods: ["seed", "maspo"], paper }))
    assert.deepStrictEqual(t!.header, [
      "Method",
      "gsm8k",
      "gsm8k (paper)",
      "math_500",
      "math_500 (paper)",
      AVERAGE_COLUMN,
      `${AVERAGE_COLUMN} (paper)`
    ])
    const maspo = t!.rows.find((r) => r[0] === "maspo")!
    assert.strictEqual(maspo[2], "91.2")
    assert.strictEqual(maspo[4], "–")
    assert.strictEqual(maspo[6], "80.5")
    assert.deepStrictEqual(
      t!.rows.find((r) => r[0] === "seed")!.filter((_, i) => i % 2 === 0 && i > 0),
      ["–", "–", "–"]
    )
    const [plain] = parseMarkdown(renderTable(summary, { format: "markdown" }))
    assert.isFalse(plain!.header.some((h) => h.endsWith("(paper)")))
  })

  it("Table 2: rows are the ablation methods in the given order, for one topology", () => {
    const [t] = parseMarkdown(
      renderTable(summary, {
        format: "markdown",
        kind: "ablation",
        topology: "chain",
        methods: ["maspo-no-lookahead", "maspo"]
      })
    )
    assert.deepStrictEqual(
      t!.rows.map((r) => r[0]),
      ["maspo-no-lookahead", "maspo"]
    )
    assert.strictEqual(t!.title, "Ablations: chain")
  })

  it("cost table: calls and tokens per role as totals per seed", () => {
    const [t] = costTables(summary)
    assert.deepStrictEqual(t!.header.slice(0, 5), ["Method", "Task", "Seeds", "agent calls", "agent tokens"])
    const csv = parseCsv(renderTable(summary, { format: "csv", kind: "costs" }))
    const row = csv.find((r) => r[1] === "maspo" && r[2] === "gsm8k")!
    const col = (name: string) => row[csv[0]!.indexOf(name)]
    assert.strictEqual(col("agent calls"), "10.0")
    assert.strictEqual(col("agent tokens"), "100")
    assert.strictEqual(col("optimizer calls"), "20.0")
    assert.strictEqual(col("total calls"), "30.0")
    assert.strictEqual(col("Seeds"), "10")
  })

  it("long CSV: one line per (topology, method, task) and per average, with the comparisons", () => {
    const csv = parseCsv(renderCsvLong(summary))
    const [header, ...body] = csv
    assert.strictEqual(body.length, summary.rows.length + summary.averages.length)
    const col = (row: ReadonlyArray<string>, name: string) => row[header!.indexOf(name)]
    const maspo = body.find((r) => r[1] === "maspo" && r[2] === "gsm8k")!
    assert.strictEqual(col(maspo, "accuracy"), "1")
    assert.strictEqual(col(maspo, "vs_seed_method"), "seed")
    assert.strictEqual(col(maspo, "vs_seed_significant"), "true")
    assert.strictEqual(col(maspo, "vs_best_method"), "ape")
    assert.strictEqual(
      col(
        body.find((r) => r[1] === "seed" && r[2] === "gsm8k")!,
        "vs_seed_method"
      ),
      ""
    )
  })

  it("is deterministic", () => {
    for (const format of ["markdown", "csv", "json", "latex"] as const)
      assert.strictEqual(renderTable(summary, { format }), renderTable(summary, { format }))
    assert.strictEqual(accuracyTables(summary).length, 1)
  })
})
