import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { decodeTopology, descendants, type TopologySpec, validateTopology } from "@maspo/core"

const P = "Do it. {question} {context}"
const agent = (id: string, prompt = P) => ({ kind: "agent" as const, id, role: id, prompt })

const diamond: TopologySpec = {
  name: "diamond",
  nodes: [agent("a"), agent("b"), agent("c"), agent("d")],
  edges: [
    { from: "a", to: "b" },
    { from: "a", to: "c" },
    { from: "b", to: "d" },
    { from: "c", to: "d" }
  ],
  terminal: "d"
}

const errorOf = (spec: TopologySpec) => {
  const r = validateTopology(spec)
  return typeof r === "string" ? r : "valid"
}

describe("topology validation", () => {
  it("orders a DAG and groups levels", () => {
    const t = validateTopology(diamond)
    assert.isTrue(typeof t !== "string")
    if (typeof t === "string") return
    assert.deepStrictEqual(t.order, ["a", "b", "c", "d"])
    assert.deepStrictEqual(t.levels, [["a"], ["b", "c"], ["d"]])
    assert.deepStrictEqual([...descendants(t, "a")].sort(), ["b", "c", "d"])
    assert.deepStrictEqual([...descendants(t, "b")], ["d"])
  })

  it("names the cycle", () => {
    const spec = { ...diamond, edges: [...diamond.edges, { from: "d", to: "b" }], terminal: "d" }
    assert.match(
      errorOf({
        ...spec,
        nodes: [...spec.nodes, agent("e")],
        edges: [...spec.edges, { from: "d", to: "e" }],
        terminal: "e"
      }),
      /^cycle: (b -> d -> b|d -> b -> d)$/
    )
  })

  it("names an unknown agent in an edge", () => {
    assert.strictEqual(
      errorOf({ ...diamond, edges: [...diamond.edges, { from: "c", to: "zed" }] }),
      "edge c -> zed: unknown agent 'zed'"
    )
  })

  it("names the agent and slot of a bad prompt", () => {
    const bad = {
      ...diamond,
      nodes: [agent("a", "{question} {context} {answer}"), ...diamond.nodes.slice(1)]
    }
    assert.strictEqual(errorOf(bad), "prompt of agent 'a': unknown slot {answer}")
    const dup = {
      ...diamond,
      nodes: [agent("a", "{question} {question} {context}"), ...diamond.nodes.slice(1)]
    }
    assert.strictEqual(errorOf(dup), "prompt of agent 'a': duplicated slot {question}")
  })

  it("rejects a bad terminal, duplicate ids and dangling nodes", () => {
    assert.strictEqual(errorOf({ ...diamond, terminal: "x" }), "terminal 'x' is not a node")
    assert.strictEqual(errorOf({ ...diamond, terminal: "b" }), "terminal 'b' has successors")
    assert.strictEqual(
      errorOf({ ...diamond, nodes: [...diamond.nodes, agent("a")] }),
      "duplicate node id 'a'"
    )
    assert.strictEqual(
      errorOf({ ...diamond, nodes: [...diamond.nodes, agent("lonely")] }),
      "node 'lonely' does not lead to the terminal 'd'"
    )
  })

  it.effect("decodes untyped input with a schema error naming the field", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        decodeTopology({ name: "x", nodes: [{ kind: "agent", id: "a" }], edges: [], terminal: "a" })
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.match(String(exit), /role|prompt/)
    })
  )
})
