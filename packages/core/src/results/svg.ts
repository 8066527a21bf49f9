/** Dependency-free SVG charts as strings. Same input, byte-identical output. */

export type Point = readonly [number, number]

export interface ChartSeries {
  readonly name: string
  readonly points: ReadonlyArray<Point>
  /** Per point, a vertical whisker [low, high] (e.g. a CI), aligned with `points`. */
  readonly whiskers?: ReadonlyArray<readonly [number, number] | undefined>
}

export interface ChartSpec {
  readonly title: string
  readonly xLabel: string
  readonly yLabel: string
  readonly series: ReadonlyArray<ChartSeries>
  readonly width?: number
  readonly height?: number
  /** Fixed axis ranges (otherwise from the data, extended to round ticks). */
  readonly xRange?: readonly [number, number]
  readonly yRange?: readonly [number, number]
}

const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf"
]

export const colorOf = (index: number): string => PALETTE[index % PALETTE.length]!

/** Escapes text for SVG/XML content and attribute values. */
export const escapeXml = (s: string): string =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    // Characters XML 1.0 does not allow at all.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")

/** Fixed decimals, without "-0.00". */
const num = (x: number, digits = 2): string => {
  const s = x.toFixed(digits)
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s
}

interface Axis {
  readonly min: number
  readonly max: number
  readonly ticks: ReadonlyArray<number>
  readonly decimals: number
}

/** Round ticks (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export const niceAxis = (lo: number, hi: number, target = 5, fixedRange = false): Axis => {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return niceAxis(0, 1, target)
  if (hi < lo) [lo, hi] = [hi, lo]
  // A (nearly) constant range gets padding, so ticks stay within fixed-decimal precision.
  if (hi - lo < 1e-9 * Math.max(1, Math.abs(lo), Math.abs(hi))) {
    const pad = Math.abs(lo) > 1e-9 ? Math.abs(lo) * 0.1 : 1
    lo -= pad
    hi += pad
  }
  const raw = (hi - lo) / target
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const norm = raw / magnitude
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)))
  const round = (x: number) => Number(x.toFixed(decimals))
  const min = fixedRange ? lo : round(Math.floor(lo / step + 1e-9) * step)
  const max = fixedRange ? hi : round(Math.ceil(hi / step - 1e-9) * step)
  const ticks: Array<number> = []
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + step * 1e-9 && ticks.length < 1000; k++)
    ticks.push(round(k * step))
  return { min, max, ticks, decimals }
}

type Kind = "line" | "scatter"

const finitePoint = (p: Point): boolean => Number.isFinite(p[0]) && Number.isFinite(p[1])

const chart = (spec: ChartSpec, kind: Kind): string => {
  const width = spec.width ?? 720
  const height = spec.height ?? 420
  const legendWidth = 180
  const m = { left: 70, right: legendWidth + 20, top: 40, bottom: 56 }
  const plotW = Math.max(10, width - m.left - m.right)
  const plotH = Math.max(10, height - m.top - m.bottom)

  const xs: Array<number> = []
  const ys: Array<number> = []
  for (const s of spec.series) {
    s.points.forEach((p, i) => {
      if (!finitePoint(p)) return
      xs.push(p[0])
      ys.push(p[1])
      const w = s.whiskers?.[i]
      if (w !== undefined && Number.isFinite(w[0]) && Number.isFinite(w[1])) ys.push(w[0], w[1])
    })
  }
  const xAxis =
    spec.xRange !== undefined
      ? niceAxis(spec.xRange[0], spec.xRange[1], 6, true)
      : niceAxis(xs.length ? Math.min(...xs) : 0, xs.length ? Math.max(...xs) : 1, 6)
  const yAxis =
    spec.yRange !== undefined
      ? niceAxis(spec.yRange[0], spec.yRange[1], 5, true)
      : niceAxis(ys.length ? Math.min(...ys) : 0, ys.length ? Math.max(...ys) : 1, 5)
  const sx = (x: number) => m.left + ((x - xAxis.min) / (xAxis.max - xAxis.min)) * plotW
  const sy = (y: number) => m.top + plotH - ((y - yAxis.min) / (yAxis.max - yAxis.min)) * plotH

  const out: Array<string> = []
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`
  )
  out.push(`<title>${escapeXml(spec.title)}</title>`)
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`)
  out.push(
    `<text class="title" x="${num(m.left + plotW / 2)}" y="24" text-anchor="middle" font-size="15">${escapeXml(spec.title)}</text>`
  )

  // Grid, ticks and tick labels.
  out.push(`<g class="axes" stroke="#000000" fill="none">`)
  out.push(
    `<line x1="${num(m.left)}" y1="${num(m.top + plotH)}" x2="${num(m.left + plotW)}" y2="${num(m.top + plotH)}"/>`
  )
  out.push(`<line x1="${num(m.left)}" y1="${num(m.top)}" x2="${num(m.left)}" y2="${num(m.top + plotH)}"/>`)
  out.push(`</g>`)
  out.push(`<g class="x-ticks">`)
  for (const t of xAxis.ticks) {
    const x = num(sx(t))
    out.push(`<line x1="${x}" y1="${num(m.top)}" x2="${x}" y2="${num(m.top + plotH)}" stroke="#e6e6e6"/>`)
    out.push(
      `<line x1="${x}" y1="${num(m.top + plotH)}" x2="${x}" y2="${num(m.top + plotH + 5)}" stroke="#000000"/>`
    )
    out.push(
      `<text x="${x}" y="${num(m.top + plotH + 18)}" text-anchor="middle">${num(t, xAxis.decimals)}</text>`
    )
  }
  out.push(`</g>`)
  out.push(`<g class="y-ticks">`)
  for (const t of yAxis.ticks) {
    const y = num(sy(t))
    out.push(`<line x1="${num(m.left)}" y1="${y}" x2="${num(m.left + plotW)}" y2="${y}" stroke="#e6e6e6"/>`)
    out.push(`<line x1="${num(m.left - 5)}" y1="${y}" x2="${num(m.left)}" y2="${y}" stroke="#000000"/>`)
    out.push(
      `<text x="${num(m.left - 8)}" y="${num(sy(t) + 4)}" text-anchor="end">${num(t, yAxis.decimals)}</text>`
    )
  }
  out.push(`</g>`)
  out.push(
    `<text class="x-label" x="${num(m.left + plotW / 2)}" y="${num(height - 12)}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`
  )
  out.push(
    `<text class="y-label" x="16" y="${num(m.top + plotH / 2)}" text-anchor="middle" transform="rotate(-90 16 ${num(m.top + plotH / 2)})">${escapeXml(spec.yLabel)}</text>`
  )

  // Data, clipped to the plot area.
  out.push(
    `<defs><clipPath id="plot"><rect x="${num(m.left)}" y="${num(m.top)}" width="${num(plotW)}" height="${num(plotH)}"/></clipPath></defs>`
  )
  out.push(`<g class="data" clip-path="url(#plot)">`)
  spec.series.forEach((s, i) => {
    const color = colorOf(i)
    const pts = s.points.map((p, j) => [p, s.whiskers?.[j]] as const).filter(([p]) => finitePoint(p))
    out.push(`<g class="series" data-series="${escapeXml(s.name)}">`)
    if (kind === "line" && pts.length > 1) {
      const sorted = pts.slice().sort((a, b) => a[0][0] - b[0][0])
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${sorted.map(([p]) => `${num(sx(p[0]))},${num(sy(p[1]))}`).join(" ")}"/>`
      )
    }
    for (const [p, w] of pts) {
      const x = num(sx(p[0]))
      if (w !== undefined && Number.isFinite(w[0]) && Number.isFinite(w[1])) {
        const lo = num(sy(w[0]))
        const hi = num(sy(w[1]))
        out.push(`<line x1="${x}" y1="${lo}" x2="${x}" y2="${hi}" stroke="${color}" stroke-width="1.5"/>`)
        out.push(
          `<line x1="${num(sx(p[0]) - 4)}" y1="${lo}" x2="${num(sx(p[0]) + 4)}" y2="${lo}" stroke="${color}"/>`
        )
        out.push(
          `<line x1="${num(sx(p[0]) - 4)}" y1="${hi}" x2="${num(sx(p[0]) + 4)}" y2="${hi}" stroke="${color}"/>`
        )
      }
      out.push(`<circle cx="${x}" cy="${num(sy(p[1]))}" r="${kind === "line" ? 3 : 5}" fill="${color}"/>`)
    }
    out.push(`</g>`)
  })
  out.push(`</g>`)

  // Legend.
  const lx = m.left + plotW + 20
  out.push(`<g class="legend">`)
  spec.series.forEach((s, i) => {
    const y = m.top + 10 + i * 20
    const color = colorOf(i)
    out.push(
      kind === "line"
        ? `<line x1="${num(lx)}" y1="${num(y)}" x2="${num(lx + 20)}" y2="${num(y)}" stroke="${color}" stroke-width="2"/>`
        : `<circle cx="${num(lx + 10)}" cy="${num(y)}" r="5" fill="${color}"/>`
    )
    out.push(`<text x="${num(lx + 28)}" y="${num(y + 4)}">${escapeXml(s.name)}</text>`)
  })
  out.push(`</g>`)
  out.push(`</svg>`)
  return out.join("\n") + "\n"
}

/** Lines through each series' points (sorted by x), with markers, axes, ticks and a legend. */
export const lineChart = (spec: ChartSpec): string => chart(spec, "line")

/** Points per series, with optional vertical whiskers, axes, ticks and a legend. */
export const scatterChart = (spec: ChartSpec): string => chart(spec, "scatter")
