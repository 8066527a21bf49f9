import { assert, describe, it } from "@effect/vitest"
import { validateTopology } from "@maspo/core"
import { topologiesFor } from "../src/topologies.ts"

describe("bundled topologies", () => {
  for (const kind of ["math", "choice", "code"] as const) {
    it(`${kind}: every topology validates and states the answer format`, () => {
      const format = { math: "\\boxed{}", choice: "<answer>", code: "```python" }[kind]
      for (const [name, spec] of Object.entries(topologiesFor(kind))) {
        const t = validateTopology(spec)
        assert.notStrictEqual(typeof t, "string", `${kind}/${name}: ${String(t)}`)
        for (const node of spec.nodes) if (node.kind === "agent") assert.include(node.prompt, format)
      }
    })
  }

  it("has the paper's shapes", () => {
    const t = topologiesFor("math")
    const seq = validateTopology(t.sequential!)
    const hier = validateTopology(t.hierarchical!)
    const deb = validateTopology(t.debate!)
    if (typeof seq === "string" || typeof hier === "string" || typeof deb === "string")
      return assert.fail("invalid")
    assert.deepStrictEqual(seq.levels, [["solver"], ["reflector"]])
    assert.deepStrictEqual(hier.levels, [["math_agent", "science_agent", "code_agent"], ["summarizer"]])
    assert.deepStrictEqual(deb.levels, [["debater_a1", "debater_b1"], ["debater_a2", "debater_b2"], ["vote"]])
  })
})
