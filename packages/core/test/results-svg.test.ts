import { assert, describe, it } from "@effect/vitest"
import { emptyTally, mean } from "@maspo/core"
import {
  accuracyVsCallsPlot,
  type CellResult,
  type ChartSpec,
  escapeXml,
  lineChart,
  misalignmentPlot,
  niceAxis,
  scatterChart,
  scorePerStepPlot
} from "@maspo/core/results"
import fc from "fast-check"

/** Well-formed XML-ish: balanced tags, one <svg> root, no raw < > or bare & in text or attributes. */
const checkSvg = (svg: string) => {
  const body = svg.trim()
  assert.isTrue(body.startsWith("<svg "), "starts with <svg")
  assert.isTrue(body.endsWith("</svg>"), "ends with </svg>")
  assert.strictEqual(body.match(/<svg[\s>]/g)?.length, 1)
  const stack: Array<string> = []
  let roots = 0
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/y
  let i = 0
  while (i < body.length) {
    const lt = body.indexOf("<", i)
    const text = body.slice(i, lt === -1 ? body.length : lt)
    assert.notMatch(text, />/, "raw > in text")
    assert.notMatch(text.replace(/&(amp|lt|gt|quot|apos);/g, ""), /&/, "bare & in text")
    if (lt === -1) break
    tag.lastIndex = lt
    const m = tag.exec(body)
    assert.isNotNull(m, `malformed tag at ${body.slice(lt, lt + 40)}`)
    const [whole, close, name, attrs, selfClose] = m!
    assert.notMatch(attrs!.replace(/&(amp|lt|gt|quot|apos);/g, ""), /&/, "bare & in attribute")
    if (close === "/") assert.strictEqual(stack.pop(), name)
    else if (selfClose !== "/") {
      if (stack.length === 0) roots++
      stack.push(name!)
    } else if (stack.length === 0) roots++
    i = lt + whole.length
  }
  assert.deepStrictEqual(stack, [])
  assert.strictEqual(roots, 1)
  assert.notMatch(svg, /NaN|Infinity/)
}

const legendNames = (svg: string): Array<string> => {
  const legend = svg.slice(
    svg.indexOf('<g class="legend">'),
    svg.indexOf("</g>", svg.indexOf('<g class="legend">'))
  )
  return [...legend.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!)
}

const coordArb = fc.oneof(
  { weight: 10, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, 0, -0) }
)

const specArb: fc.Arbitrary<ChartSpec> = fc.record({
  title: fc.string(),
  xLabel: fc.string(),
  yLabel: fc.string(),
  series: fc.array(
    fc.record({
      name: fc.string(),
      points: fc.array(fc.tuple(coordArb, coordArb), { maxLength: 8 })
    }),
    { maxLength: 6 }
  )
})

describe("SVG charts", () => {
  it("property: one well-formed <svg> root, every series in the legend, byte-identical on re-render", () => {
    fc.assert(
      fc.property(specArb, fc.boolean(), (spec, line) => {
        const render = line ? lineChart : scatterChart
        const svg = render(spec)
        checkSvg(svg)
        assert.deepStrictEqual(
          legendNames(svg),
          spec.series.map((s) => escapeXml(s.name))
        )
        assert.strictEqual(render(structuredClone(spec)), svg)
      }),
      { numRuns: 150 }
    )
  })

  it("escapes & < > in the title, labels and series names", () => {
    const svg = lineChart({
      title: "A & B <x>",
      xLabel: "step <i>",
      yLabel: 'score & "rate"',
      series: [
        {
          name: "<script>alert(1)</script> & co",
          points: [
            [0, 1],
            [1, 2]
          ]
        }
      ]
    })
    checkSvg(svg)
    assert.include(svg, "A &amp; B &lt;x&gt;")
    assert.include(svg, "step &lt;i&gt;")
    assert.include(svg, "score &amp; &quot;rate&quot;")
    assert.include(svg, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co")
    assert.notInclude(svg, "<script>")
    assert.notInclude(svg, "<x>")
  })

  it("draws axes, ticks with fixed decimals, lines and whiskers", () => {
    const line = lineChart({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      series: [
        {
          name: "a",
          points: [
            [0, 0.5],
            [10, 0.75]
          ]
        }
      ]
    })
    assert.include(line, '<g class="axes"')
    assert.include(line, "<polyline")
    // y from 0.5 to 0.75 in steps of 0.05: labels with two decimals.
    assert.include(line, ">0.50</text>")
    assert.include(line, ">0.75</text>")
    assert.include(line, ">10</text>")
    const scatter = scatterChart({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      series: [{ name: "a", points: [[100, 60]], whiskers: [[55, 65]] }]
    })
    assert.notInclude(scatter, "<polyline")
    // The whisker, the two caps and the point.
    assert.strictEqual(scatter.split('<g class="series"')[1]!.match(/<line /g)?.length, 3)
  })

  it("property: nice axes cover the data with round, increasing ticks", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        (a, b) => {
          const lo = Math.min(a, b)
          const hi = Math.max(a, b)
          const axis = niceAxis(lo, hi)
          // Up to rounding far below a tick step.
          const eps = (axis.max - axis.min) * 1e-6
          assert.isAtMost(axis.min, lo + eps)
          assert.isAtLeast(axis.max, hi - eps)
          assert.isAbove(axis.max, axis.min)
          assert.isAtLeast(axis.ticks.length, 2)
          assert.isAtMost(axis.ticks.length, 12)
          for (let i = 1; i < axis.ticks.length; i++) assert.isAbove(axis.ticks[i]!, axis.ticks[i - 1]!)
          for (const t of axis.ticks) {
            assert.isAtLeast(t, axis.min - 1e-9 * Math.max(1, Math.abs(axis.min)))
            assert.isAtMost(t, axis.max + 1e-9 * Math.max(1, Math.abs(axis.max)))
          }
        }
      )
    )
  })
})

describe("plots from cells", () => {
  const budget = (calls: number) => ({
    agent: { ...emptyTally, calls },
    optimizer: emptyTally,
    evaluator: emptyTally
  })
  const cells: Array<CellResult> = []
  for (const method of ["seed", "maspo", "local & only"])
    for (let seed = 0; seed < 3; seed++) {
      const scores = Array.from({ length: 20 }, (_, i) =>
        (i + seed) % (method === "maspo" ? 5 : 2) === 0 ? 0 : 1
      )
      cells.push({
        topology: "chain",
        task: "gsm8k",
        method,
        seed,
        testItemIds: scores.map((_, i) => `q${i}`),
        scores,
        accuracy: mean(scores),
        budget: budget(method === "seed" ? 40 : 400 + 10 * seed),
        ...(method === "seed"
          ? {}
          : {
              steps: Array.from({ length: 6 }, (_, index) => ({
                index,
                agentId: index % 2 === 0 ? "solver" : "critic<1>",
                kind: "step",
                score: 0.5 + 0.05 * index + 0.01 * seed,
                misalignmentRate: method === "maspo" ? 0.1 : 0.3,
                calls: 50 * (index + 1)
              }))
            })
      })
    }

  it("score per step: one line per agent; misalignment: one line per method", () => {
    const score = scorePerStepPlot(cells, { method: "maspo" })
    checkSvg(score)
    assert.deepStrictEqual(legendNames(score), ["solver", "critic&lt;1&gt;"])
    const mis = misalignmentPlot(cells)
    checkSvg(mis)
    assert.deepStrictEqual(legendNames(mis), ["maspo", "local &amp; only"])
    assert.strictEqual(misalignmentPlot(cells), mis)
  })

  it("accuracy vs calls: one point per method with CI whiskers", () => {
    const svg = accuracyVsCallsPlot(cells, { topology: "chain" })
    checkSvg(svg)
    assert.deepStrictEqual(legendNames(svg), ["seed", "maspo", "local &amp; only"])
    assert.strictEqual(svg.split('<g class="series"').length - 1, 3)
    assert.strictEqual(svg.match(/<circle cx="[^"]+" cy="[^"]+" r="5"/g)?.length, 3 + 3)
    assert.strictEqual(accuracyVsCallsPlot(cells, { topology: "chain" }), svg)
  })
})
