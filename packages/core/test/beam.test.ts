import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import {
  acceptChild,
  bestOf,
  type BeamMember,
  isMisaligned,
  isSuccess,
  misalignmentRate,
  misalignmentSeverity,
  nextBeam,
  paperDefaults,
  pruneBeam,
  rankCases,
  reanchorBeam,
  schedule,
  validateTopology,
  type Topology
} from "@maspo/core"

const p = (prompt: string, score: number): BeamMember => ({ prompt, score })

describe("beam rules", () => {
  it("a child that beats its parent adds its reward to the parent's J; one that does not is replaced", () => {
    assert.deepStrictEqual(acceptChild({ parent: p("P", 0.2), prompt: "C", reward: 0.1 }), {
      prompt: "C",
      score: 0.30000000000000004,
      accepted: true
    })
    assert.deepStrictEqual(acceptChild({ parent: p("P", 0.2), prompt: "C", reward: 0 }), {
      prompt: "P",
      score: 0.2,
      accepted: false
    })
    assert.deepStrictEqual(acceptChild({ parent: p("P", 0.2), prompt: "C", reward: -0.3 }).prompt, "P")
  })

  it("cumulative scores chain over generations", () => {
    let beam: Array<BeamMember> = [p("seed", 0)]
    for (const [child, reward] of [
      ["g1", 0.2],
      ["g2", 0.1],
      ["g3", 0.05]
    ] as const) {
      beam = nextBeam([{ parent: beam[0]!, children: [{ parent: beam[0]!, prompt: child, reward }] }], 2)
    }
    assert.strictEqual(beam[0]!.prompt, "g3")
    assert.closeTo(beam[0]!.score, 0.35, 1e-12)
  })

  it("prunes duplicates (keeping the higher J) and keeps the best K", () => {
    const parentA = p("A", 0.1)
    const parentB = p("B", 0.0)
    const beam = nextBeam(
      [
        // Both of A's children are rejected: A appears twice and must count once.
        {
          parent: parentA,
          children: [
            { parent: parentA, prompt: "a1", reward: -0.1 },
            { parent: parentA, prompt: "a2", reward: 0 }
          ]
        },
        // B's child equals another prompt already present, with a higher J.
        {
          parent: parentB,
          children: [
            { parent: parentB, prompt: "A", reward: 0.3 },
            { parent: parentB, prompt: "b2", reward: 0.05 }
          ]
        }
      ],
      2
    )
    assert.deepStrictEqual(beam, [p("A", 0.3), p("b2", 0.05)])
  })

  it("a parent with no usable child survives as itself", () => {
    assert.deepStrictEqual(nextBeam([{ parent: p("A", 0.4), children: [] }], 2), [p("A", 0.4)])
  })

  it("property: the pruned beam is distinct, sorted, at most K, and keeps each prompt's best J", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            prompt: fc.constantFrom("a", "b", "c", "d", "e"),
            score: fc.double({ min: -1, max: 1, noNaN: true })
          })
        ),
        fc.integer({ min: 1, max: 4 }),
        (entries, k) => {
          const beam = pruneBeam(entries, k)
          const prompts = beam.map((m) => m.prompt)
          assert.strictEqual(new Set(prompts).size, prompts.length)
          assert.isAtMost(beam.length, k)
          for (let i = 1; i < beam.length; i++) assert.isAtLeast(beam[i - 1]!.score, beam[i]!.score)
          for (const m of beam)
            assert.strictEqual(
              m.score,
              Math.max(...entries.filter((e) => e.prompt === m.prompt).map((e) => e.score))
            )
          const distinct = new Set(entries.map((e) => e.prompt)).size
          assert.strictEqual(beam.length, Math.min(k, distinct))
        }
      )
    )
  })

  it("refresh re-anchors J at the current best", () => {
    const beam = reanchorBeam([p("best", 0.7), p("other", 0.9)], "best", new Map([["other", -0.1]]))
    assert.deepStrictEqual(beam, [p("best", 0), p("other", -0.1)])
    assert.strictEqual(bestOf(beam).prompt, "best")
  })
})

describe("misalignment cases", () => {
  it("a local win with a downstream loss is misaligned; severity counts the lost levels", () => {
    assert.isTrue(isMisaligned({ itemId: "x", local: 1, lookahead: 0, global: 0.5 }))
    assert.isTrue(isMisaligned({ itemId: "x", local: 1, lookahead: 0.5, global: 0 }))
    assert.isFalse(isMisaligned({ itemId: "x", local: 0.5, lookahead: 0, global: 0 }))
    assert.isFalse(isMisaligned({ itemId: "x", local: 1, lookahead: 1, global: 0.5 }))
    assert.strictEqual(misalignmentSeverity({ itemId: "x", local: 1, lookahead: 0, global: 0 }), 2)
    assert.strictEqual(misalignmentSeverity({ itemId: "x", local: 1, lookahead: 0, global: 1 }), 1)
    assert.isTrue(isSuccess({ itemId: "x", local: 1, lookahead: 1, global: 0.5 }))
    assert.strictEqual(
      misalignmentRate([
        { itemId: "a", local: 1, global: 0 },
        { itemId: "b", local: 0, global: 0 }
      ]),
      0.5
    )
  })

  it("ranks both-lose cases first, then the most recent, one per item", () => {
    const ranked = rankCases(
      [
        { itemId: "a", agentId: "s", severity: 1, seq: 5 },
        { itemId: "b", agentId: "s", severity: 2, seq: 1 },
        { itemId: "c", agentId: "s", severity: 1, seq: 9 },
        { itemId: "a", agentId: "s", severity: 2, seq: 3 },
        { itemId: "d", agentId: "s", severity: 2, seq: 2 }
      ],
      3
    )
    assert.deepStrictEqual(
      ranked.map((c) => [c.itemId, c.seq]),
      [
        ["a", 3],
        ["d", 2],
        ["b", 1]
      ]
    )
  })
})

describe("visit schedule", () => {
  const chain = validateTopology({
    name: "chain",
    nodes: ["a", "b", "c"].map((id) => ({
      kind: "agent" as const,
      id,
      role: id,
      prompt: "{question} {context}"
    })),
    edges: [
      { from: "a", to: "b" },
      { from: "b", to: "c" }
    ],
    terminal: "c"
  }) as Topology

  it("visits agents in topological order, T steps a visit, D rounds, refreshing on revisits", () => {
    const plan = schedule(chain, paperDefaults)
    assert.strictEqual(plan.length, 3 * 3 * 3 + 2 * 3)
    const compact = plan.map((e) => `${e.round}${e.agentId}${e.kind === "refresh" ? "R" : e.step}`)
    assert.deepStrictEqual(compact.slice(0, 10), [
      "0a0",
      "0a1",
      "0a2",
      "0b0",
      "0b1",
      "0b2",
      "0c0",
      "0c1",
      "0c2",
      "1aR"
    ])
    assert.strictEqual(schedule(chain, { ...paperDefaults, beamRefresh: false }).length, 27)
    assert.strictEqual(schedule(chain, { ...paperDefaults, rounds: 1 }).length, 9)
  })
})
