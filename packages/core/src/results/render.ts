import { type RoleTally } from "../Budget.ts"
import { ROLES } from "../Role.ts"
import type { LeftOut } from "./CellResult.ts"
import {
  AVERAGE_COLUMN,
  type AverageRow,
  type CostSummary,
  findAverage,
  findRow,
  type PairedComparison,
  type ResultsSummary,
  type SummaryRow
} from "./summarize.ts"

/** Published numbers (percent, as printed in the paper) by method, then task (or "Avg."). Supplied by the caller. */
export type PaperNumbers = Readonly<Record<string, Readonly<Record<string, number>>>>

export type TableCell =
  | { readonly kind: "text"; readonly text: string }
  /** `mean` and `halfWidth` are fractions; shown as percent with one decimal. */
  | {
      readonly kind: "stat"
      readonly mean: number
      readonly halfWidth: number
      readonly marks: string
      readonly bold: boolean
    }
  | { readonly kind: "number"; readonly value: number; readonly digits: number }
  | { readonly kind: "empty" }

/** A rendered-format-independent table: the first row cell is the row label. */
export interface TableModel {
  readonly id: string
  /** The topology the table is about. */
  readonly group: string
  readonly title: string
  readonly caption: string
  readonly header: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<TableCell>>
}

export interface TableOptions {
  /** Topologies to show, in this order (default: all, in order of appearance). */
  readonly topologies?: ReadonlyArray<string>
  /** Rows to show, in this order (default: all methods of the topology). */
  readonly methods?: ReadonlyArray<string>
  /** Task columns to show, in this order (default: all tasks of the topology). "Avg." stays over all tasks. */
  readonly tasks?: ReadonlyArray<string>
  /** Published numbers shown in a "(paper)" column beside each of ours. */
  readonly paper?: PaperNumbers
  /** Bold the best mean of each column (Markdown and LaTeX). Default true. */
  readonly boldBest?: boolean
}

export const SEED_MARK = "†"
export const BEST_MARK = "‡"

const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : "n/a")

const fixed = (x: number, digits: number): string => {
  if (!Number.isFinite(x)) return "n/a"
  const s = x.toFixed(digits)
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s
}

const betterMark = (c: PairedComparison | undefined, mark: string): string =>
  c !== undefined && c.significant && c.diff > 0 ? mark : ""

const marksOf = (row: SummaryRow): string =>
  betterMark(row.vsSeed, SEED_MARK) + betterMark(row.vsBest, BEST_MARK)

const pick = (
  all: ReadonlyArray<string>,
  wanted: ReadonlyArray<string> | undefined
): ReadonlyArray<string> => (wanted === undefined ? all : wanted.filter((x) => all.includes(x)))

const paperCell = (paper: PaperNumbers, method: string, column: string): TableCell => {
  const value = paper[method]?.[column]
  return value === undefined ? { kind: "empty" } : { kind: "number", value, digits: 1 }
}

const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "x"

const seedRange = (rows: ReadonlyArray<SummaryRow>): string => {
  const ns = rows.map((r) => r.n)
  if (ns.length === 0) return "0 seeds"
  const lo = Math.min(...ns)
  const hi = Math.max(...ns)
  return lo === hi ? `${lo} seed${lo === 1 ? "" : "s"}` : `${lo}-${hi} seeds`
}

interface AccuracyLayout {
  readonly summary: ResultsSummary
  readonly topology: string
  readonly methods: ReadonlyArray<string>
  readonly tasks: ReadonlyArray<string>
  readonly options: TableOptions
  readonly ablation: boolean
}

const accuracyTable = (l: AccuracyLayout): TableModel => {
  const { summary, topology, methods, tasks, options } = l
  const paper = options.paper
  const bold = options.boldBest ?? true
  const columns = [...tasks, AVERAGE_COLUMN]
  const statOf = (method: string, column: string): SummaryRow | AverageRow | undefined =>
    column === AVERAGE_COLUMN
      ? findAverage(summary, topology, method)
      : findRow(summary, topology, method, column)
  const best = new Map<string, number>()
  for (const column of columns) {
    const means = methods
      .map((m) => statOf(m, column)?.accuracy)
      .filter((x): x is number => Number.isFinite(x))
    if (means.length > 1) best.set(column, Math.max(...means))
  }
  const header = ["Method", ...columns.flatMap((c) => (paper === undefined ? [c] : [c, `${c} (paper)`]))]
  const rows = methods.map((method): ReadonlyArray<TableCell> => [
    { kind: "text", text: method },
    ...columns.flatMap((column): Array<TableCell> => {
      const stat = statOf(method, column)
      const cell: TableCell =
        stat === undefined
          ? { kind: "empty" }
          : {
              kind: "stat",
              mean: stat.accuracy,
              halfWidth: stat.halfWidth,
              marks: "task" in stat ? marksOf(stat) : "",
              bold: bold && best.get(column) === stat.accuracy
            }
      return paper === undefined ? [cell] : [cell, paperCell(paper, method, column)]
    })
  ])
  const shown = summary.rows.filter(
    (r) => r.topology === topology && methods.includes(r.method) && tasks.includes(r.task)
  )
  const allTasks = summary.tasks[topology] ?? []
  const level = `${Math.round(100 * summary.level)}%`
  const caption =
    `${l.ablation ? "Ablations: accuracy" : "Accuracy"} (%) with the ${topology} topology, ` +
    `mean ± half-width of the ${level} CI over ${seedRange(shown)} (two-level bootstrap: seeds, then test items). ` +
    `${SEED_MARK} significantly better than the unoptimized MAS (${summary.seedMethod}); ` +
    `${BEST_MARK} significantly better than the best baseline on that task ` +
    `(two-level paired bootstrap ${level} CI of the difference, seeds then matched items, excludes 0). ` +
    `${AVERAGE_COLUMN} is the mean over all ${allTasks.length} task${allTasks.length === 1 ? "" : "s"} of the topology` +
    (bold ? "; bold: best in its column." : ".") +
    (paper === undefined ? "" : " (paper) columns: the published numbers.")
  return {
    id: `${l.ablation ? "ablation" : "accuracy"}-${slug(topology)}`,
    group: topology,
    title: `${l.ablation ? "Ablations" : "Accuracy"}: ${topology}`,
    caption,
    header,
    rows
  }
}

/** Table 1: one table per topology; rows = methods, columns = tasks + Avg. */
export const accuracyTables = (
  summary: ResultsSummary,
  options: TableOptions = {}
): ReadonlyArray<TableModel> =>
  pick(summary.topologies, options.topologies).map((topology) =>
    accuracyTable({
      summary,
      topology,
      methods: pick(summary.methods[topology] ?? [], options.methods),
      tasks: pick(summary.tasks[topology] ?? [], options.tasks),
      options,
      ablation: false
    })
  )

/** Table 2: rows = the ablation methods (in the given order), columns = tasks + Avg., for one topology. */
export const ablationTable = (
  summary: ResultsSummary,
  options: TableOptions & { readonly topology: string; readonly methods: ReadonlyArray<string> }
): TableModel =>
  accuracyTable({
    summary,
    topology: options.topology,
    methods: pick(summary.methods[options.topology] ?? [], options.methods),
    tasks: pick(summary.tasks[options.topology] ?? [], options.tasks),
    options,
    ablation: true
  })

const tokens = (t: RoleTally): number => t.promptTokens + t.completionTokens

const costParts: ReadonlyArray<keyof CostSummary> = [...ROLES, "total"]

/** Cost per topology: one row per (method, task), calls and tokens per role as totals per seed (mean over seeds). */
export const costTables = (summary: ResultsSummary, options: TableOptions = {}): ReadonlyArray<TableModel> =>
  pick(summary.topologies, options.topologies).map((topology) => {
    const header = [
      "Method",
      "Task",
      "Seeds",
      ...costParts.flatMap((p) => [`${p} calls`, `${p} tokens`]),
      "optimization calls",
      "optimization tokens"
    ]
    const rows: Array<ReadonlyArray<TableCell>> = []
    for (const method of pick(summary.methods[topology] ?? [], options.methods)) {
      for (const task of pick(summary.tasks[topology] ?? [], options.tasks)) {
        const row = findRow(summary, topology, method, task)
        if (row === undefined) continue
        rows.push([
          { kind: "text", text: method },
          { kind: "text", text: task },
          { kind: "number", value: row.n, digits: 0 },
          ...costParts.flatMap((p): Array<TableCell> => [
            { kind: "number", value: row.cost[p].calls, digits: 1 },
            { kind: "number", value: tokens(row.cost[p]), digits: 0 }
          ]),
          { kind: "number", value: row.optimizationCost.calls, digits: 1 },
          { kind: "number", value: tokens(row.optimizationCost), digits: 0 }
        ])
      }
    }
    return {
      id: `cost-${slug(topology)}`,
      group: topology,
      title: `Cost: ${topology}`,
      caption:
        `LLM calls and tokens (prompt + completion) per role with the ${topology} topology: ` +
        `totals per seed (optimization and test), mean over seeds; "optimization" is the ` +
        `optimization alone, the part a budget cap limits (0 for rows without one).`,
      header,
      rows
    }
  })

// ---------------------------------------------------------------- Markdown

/** Backslash-escapes Markdown punctuation that could end a table cell or start emphasis; newlines become spaces. */
export const escapeMarkdown = (s: string): string =>
  s.replace(/[\\|*_`[\]<>]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, " ")

const plainCell = (cell: TableCell): string => {
  switch (cell.kind) {
    case "text":
      return cell.text
    case "stat":
      return `${pct(cell.mean)} ± ${pct(cell.halfWidth)}${cell.marks}`
    case "number":
      return fixed(cell.value, cell.digits)
    case "empty":
      return ""
  }
}

const markdownCell = (cell: TableCell): string => {
  if (cell.kind === "stat") {
    const body = `${pct(cell.mean)} ± ${pct(cell.halfWidth)}`
    return (cell.bold ? `**${body}**` : body) + cell.marks
  }
  return cell.kind === "empty" ? "–" : escapeMarkdown(plainCell(cell))
}

const isTextColumn = (t: TableModel, column: number): boolean =>
  t.rows.every((r) => r[column] === undefined || r[column].kind === "text" || r[column].kind === "empty")

export const renderMarkdown = (tables: ReadonlyArray<TableModel>): string =>
  tables
    .map((t) => {
      const line = (cells: ReadonlyArray<string>) => `| ${cells.join(" | ")} |`
      return [
        `### ${escapeMarkdown(t.title)}`,
        "",
        line(t.header.map(escapeMarkdown)),
        line(t.header.map((_, i) => (isTextColumn(t, i) ? "---" : "---:"))),
        ...t.rows.map((r) => line(r.map(markdownCell))),
        "",
        escapeMarkdown(t.caption),
        ""
      ].join("\n")
    })
    .join("\n")

// ---------------------------------------------------------------- CSV

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF, or starts or ends with a space. */
export const csvField = (s: string): string => (/[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)

export const csvLine = (fields: ReadonlyArray<string>): string => fields.map(csvField).join(",")

/**
 * Table-shaped CSV: a leading "topology" column, then the tables' columns (the union, in order, when
 * the topologies have different tasks; missing cells are empty). Lines end with CRLF.
 */
export const renderCsv = (tables: ReadonlyArray<TableModel>): string => {
  const header: Array<string> = []
  for (const t of tables) for (const h of t.header) if (!header.includes(h)) header.push(h)
  const lines = [csvLine(["topology", ...header])]
  for (const t of tables) {
    for (const r of t.rows) {
      const byColumn = new Map(t.header.map((h, i) => [h, r[i] === undefined ? "" : plainCell(r[i])]))
      lines.push(csvLine([t.group, ...header.map((h) => byColumn.get(h) ?? "")]))
    }
  }
  return lines.join("\r\n") + "\r\n"
}

const comparisonFields = (c: PairedComparison | undefined): Array<string> =>
  c === undefined
    ? ["", "", "", "", "", "", ""]
    : [
        c.against,
        String(c.diff),
        String(c.ci.low),
        String(c.ci.high),
        String(c.pValue),
        String(c.significant),
        String(c.seeds.length)
      ]

/** One line per (topology, method, task) with every number of the summary (fractions, not percent). */
export const renderCsvLong = (summary: ResultsSummary): string => {
  const compCols = (p: string) => [
    `${p}_method`,
    `${p}_diff`,
    `${p}_ci_low`,
    `${p}_ci_high`,
    `${p}_p`,
    `${p}_significant`,
    `${p}_seeds`
  ]
  const costCols = costParts.flatMap((p) => [
    `${p}_calls`,
    `${p}_live_calls`,
    `${p}_cache_hits`,
    `${p}_prompt_tokens`,
    `${p}_completion_tokens`
  ])
  const costFields = (c: CostSummary) =>
    costParts.flatMap((p) =>
      [c[p].calls, c[p].liveCalls, c[p].cacheHits, c[p].promptTokens, c[p].completionTokens].map(String)
    )
  const lines = [
    csvLine([
      "topology",
      "method",
      "task",
      "seeds",
      "accuracy",
      "ci_low",
      "ci_high",
      "half_width",
      ...compCols("vs_seed"),
      ...compCols("vs_best"),
      ...costCols
    ])
  ]
  for (const r of summary.rows)
    lines.push(
      csvLine([
        r.topology,
        r.method,
        r.task,
        String(r.n),
        String(r.accuracy),
        String(r.ci.low),
        String(r.ci.high),
        String(r.halfWidth),
        ...comparisonFields(r.vsSeed),
        ...comparisonFields(r.vsBest),
        ...costFields(r.cost)
      ])
    )
  for (const a of summary.averages)
    lines.push(
      csvLine([
        a.topology,
        a.method,
        AVERAGE_COLUMN,
        "",
        String(a.accuracy),
        String(a.ci.low),
        String(a.ci.high),
        String(a.halfWidth),
        ...comparisonFields(undefined),
        ...comparisonFields(undefined),
        ...costFields(a.cost)
      ])
    )
  return lines.join("\r\n") + "\r\n"
}

// ---------------------------------------------------------------- LaTeX

const LATEX: Readonly<Record<string, string>> = {
  "\\": "\\textbackslash{}",
  "{": "\\{",
  "}": "\\}",
  _: "\\_",
  "%": "\\%",
  "&": "\\&",
  "#": "\\#",
  $: "\\$",
  "~": "\\textasciitilde{}",
  "^": "\\textasciicircum{}",
  "|": "\\textbar{}",
  "<": "\\textless{}",
  ">": "\\textgreater{}",
  "±": "$\\pm$",
  "†": "$^{\\dagger}$",
  "‡": "$^{\\ddagger}$"
}

/** Escapes LaTeX special characters (\ { } _ % & # $ ~ ^, and | < > which OT1 fonts misprint) for text mode; ± † ‡ become math. Newlines become spaces. */
export const escapeLatex = (s: string): string =>
  s.replace(/[\\{}_%&#$~^|<>±†‡]/g, (c) => LATEX[c]!).replace(/\r\n|\r|\n/g, " ")

const latexCell = (cell: TableCell): string => {
  if (cell.kind === "stat") {
    const body = `${pct(cell.mean)} $\\pm$ ${pct(cell.halfWidth)}`
    return (cell.bold ? `\\textbf{${body}}` : body) + escapeLatex(cell.marks)
  }
  return cell.kind === "empty" ? "--" : escapeLatex(plainCell(cell))
}

/** booktabs tables, one `table` environment per model. */
export const renderLatex = (tables: ReadonlyArray<TableModel>): string =>
  tables
    .map((t) =>
      [
        `% ${escapeLatex(t.title)}`,
        "\\begin{table}[t]",
        "\\centering",
        `\\caption{${escapeLatex(t.caption)}}`,
        `\\label{tab:${t.id}}`,
        `\\begin{tabular}{${t.header.map((_, i) => (isTextColumn(t, i) ? "l" : "r")).join("")}}`,
        "\\toprule",
        `${t.header.map(escapeLatex).join(" & ")} \\\\`,
        "\\midrule",
        ...t.rows.map((r) => `${r.map(latexCell).join(" & ")} \\\\`),
        "\\bottomrule",
        "\\end{tabular}",
        "\\end{table}",
        ""
      ].join("\n")
    )
    .join("\n")

// ---------------------------------------------------------------- JSON

const jsonComparison = (c: PairedComparison | undefined) =>
  c === undefined
    ? null
    : {
        against: c.against,
        diff: c.diff,
        ci: c.ci,
        pValue: c.pValue,
        significant: c.significant,
        seeds: c.seeds,
        pairs: c.pairs
      }

/** The same tables as data: every number, the display text, the markers and the paper numbers. */
export const tablesJson = (
  summary: ResultsSummary,
  options: TableOptions & {
    readonly kind?: TableKind
    readonly topology?: string
    readonly leftOut?: LeftOut
  } = {}
) => {
  const kind = options.kind ?? "accuracy"
  const topologies =
    kind === "ablation" && options.topology !== undefined
      ? [options.topology]
      : pick(summary.topologies, options.topologies)
  const tables = topologies.map((topology) => {
    const model =
      kind === "ablation"
        ? ablationTable(summary, {
            ...options,
            topology,
            methods: options.methods ?? summary.methods[topology] ?? []
          })
        : kind === "costs"
          ? costTables(summary, { ...options, topologies: [topology] })[0]!
          : accuracyTables(summary, { ...options, topologies: [topology] })[0]!
    const methods = pick(summary.methods[topology] ?? [], options.methods)
    const tasks = pick(summary.tasks[topology] ?? [], options.tasks)
    const rows = methods.map((method) => ({
      method,
      cells: [...tasks, ...(kind === "costs" ? [] : [AVERAGE_COLUMN])].flatMap((task) => {
        const stat =
          task === AVERAGE_COLUMN
            ? findAverage(summary, topology, method)
            : findRow(summary, topology, method, task)
        if (stat === undefined) return []
        const paper = options.paper?.[method]?.[task]
        const row = "task" in stat ? stat : undefined
        return [
          {
            task,
            ...(row === undefined ? {} : { seeds: row.seeds, n: row.n, items: row.items }),
            accuracy: stat.accuracy,
            ci: stat.ci,
            halfWidth: stat.halfWidth,
            text: `${pct(stat.accuracy)} ± ${pct(stat.halfWidth)}${row === undefined ? "" : marksOf(row)}`,
            marks: row === undefined ? "" : marksOf(row),
            vsSeed: jsonComparison(row?.vsSeed),
            vsBest: jsonComparison(row?.vsBest),
            paper: paper ?? null,
            cost: stat.cost
          }
        ]
      })
    }))
    return {
      id: model.id,
      topology,
      title: model.title,
      caption: model.caption,
      columns: model.header.slice(1),
      rows
    }
  })
  return {
    kind,
    seedMethod: summary.seedMethod,
    ours: summary.ours,
    level: summary.level,
    tables,
    mismatches: summary.mismatches,
    // Only when something was left out, so the JSON of a complete experiment does not change.
    ...(options.leftOut !== undefined && options.leftOut.cells.length > 0 ? { leftOut: options.leftOut } : {})
  }
}

export const renderJson = (
  summary: ResultsSummary,
  options: TableOptions & {
    readonly kind?: TableKind
    readonly topology?: string
    readonly leftOut?: LeftOut
  } = {}
): string => JSON.stringify(tablesJson(summary, options), null, 2) + "\n"

// ---------------------------------------------------------------- one entry point

export type TableFormat = "markdown" | "csv" | "json" | "latex"
export type TableKind = "accuracy" | "costs" | "ablation"

export interface RenderOptions extends TableOptions {
  readonly format: TableFormat
  /** Default "accuracy" (Table 1). "ablation" (Table 2) needs `topology` and `methods`. */
  readonly kind?: TableKind
  /** The topology of an ablation table. */
  readonly topology?: string
  /** Planned cells and rows the tables were built without (recorded in the JSON). */
  readonly leftOut?: LeftOut
}

/** Renders the summary as Table 1 (accuracy), the cost table, or Table 2 (ablation), in one format. */
export const renderTable = (summary: ResultsSummary, options: RenderOptions): string => {
  const kind = options.kind ?? "accuracy"
  if (options.format === "json") return renderJson(summary, options)
  const tables =
    kind === "costs"
      ? costTables(summary, options)
      : kind === "ablation"
        ? [
            ablationTable(summary, {
              ...options,
              topology: options.topology ?? summary.topologies[0] ?? "",
              methods:
                options.methods ?? summary.methods[options.topology ?? summary.topologies[0] ?? ""] ?? []
            })
          ]
        : accuracyTables(summary, options)
  switch (options.format) {
    case "markdown":
      return renderMarkdown(tables)
    case "csv":
      return renderCsv(tables)
    case "latex":
      return renderLatex(tables)
  }
}
