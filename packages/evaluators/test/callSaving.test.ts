import { assert, describe, it } from "@effect/vitest"
import { makeTopology, maspoDefaults, type OptimizerConfig, paperDefaults, schedule } from "@maspo/core"
import { simHierarchical, simSequential } from "@maspo/core/sim"
import { Effect } from "effect"
import * as fc from "fast-check"
import {
  callsOf,
  compareSaving,
  decisions,
  runWorld,
  SCRIPTED_WORLD,
  SIM_WORLD
} from "../../../bench/callSaving.ts"
import { referenceCallCount } from "../../../bench/referenceCallCount.ts"
import { chain } from "./scriptedWorld.ts"

const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1)

const configArb: fc.Arbitrary<OptimizerConfig> = fc.record({
  beamWidth: fc.integer({ min: 1, max: 4 }),
  childrenPerParent: fc.integer({ min: 1, max: 4 }),
  stepsPerVisit: fc.integer({ min: 1, max: 3 }),
  rounds: fc.integer({ min: 1, max: 3 }),
  batchSize: fc.integer({ min: 1, max: 20 }),
  poolSize: fc.constant(50),
  beamRefresh: fc.boolean(),
  evaluator: fc.constant("joint" as const),
  weights: fc.record({
    local: fc.constantFrom(0, 0.4),
    lookahead: fc.constantFrom(0, 0.4),
    global: fc.constantFrom(0, 0.2)
  }),
  debiasPosition: fc.boolean(),
  singleJudgeRequest: fc.constant(true),
  templateSet: fc.constant("maspo"),
  lookaheadDepth: fc.constant(1),
  caseSampling: fc.constant("misalignment" as const),
  misalignmentCases: fc.constant(3),
  maxInjected: fc.constant(5)
})

describe("referenceCallCount (the paper's implementation, derived)", () => {
  it.effect("pins the counts of the paper's defaults on a two-agent chain", () =>
    Effect.gen(function* () {
      const topology = yield* makeTopology(chain)
      const ref = referenceCallCount(paperDefaults, topology)
      // One parent: 2 children, each re-running the parent's whole system (10 items x 2 agents x 2
      // calls) and the candidate's chain (the same here: the solver is upstream of everything).
      assert.deepStrictEqual(ref.firstStep, { agent: 2 * (40 + 40), optimizer: 2, evaluator: 2 * 10 * 3 })
      assert.deepStrictEqual(ref.fullStep, { agent: 4 * 80, optimizer: 4, evaluator: 4 * 30 })
      assert.strictEqual(ref.entries.length, 22)
      // solver: 1 + 8 full steps and 2 refreshes of 1 member; reviewer the same with 10 x (4 + 2) agent
      // calls and 10 comparisons per candidate.
      assert.deepStrictEqual(ref.total, {
        agent: 160 + 8 * 320 + 2 * 80 + (120 + 8 * 240 + 2 * 60),
        optimizer: 2 * (2 + 8 * 4),
        evaluator: 60 + 8 * 120 + 2 * 30 + (20 + 8 * 40 + 2 * 10)
      })
      assert.strictEqual(referenceCallCount(maspoDefaults, topology).total.evaluator, 2 * 1440)
    })
  )

  it.effect("is linear in the batch, doubles the judge calls with debiasing, follows the schedule", () =>
    Effect.gen(function* () {
      const topologies = [yield* makeTopology(chain), yield* makeTopology(simHierarchical)]
      fc.assert(
        fc.property(configArb, fc.constantFrom(0, 1), (config, t) => {
          const topology = topologies[t]!
          const ref = referenceCallCount(config, topology)
          const doubleBatch = referenceCallCount({ ...config, batchSize: 2 * config.batchSize }, topology)
          const flipped = referenceCallCount({ ...config, debiasPosition: !config.debiasPosition }, topology)
          const plan = schedule(topology, config)
          assert.deepStrictEqual(
            ref.entries.map((e) => e.entry),
            plan
          )
          assert.deepStrictEqual(doubleBatch.total, {
            agent: 2 * ref.total.agent,
            optimizer: ref.total.optimizer,
            evaluator: 2 * ref.total.evaluator
          })
          const factor = config.debiasPosition ? 0.5 : 2
          assert.strictEqual(flipped.total.evaluator, factor * ref.total.evaluator)
          assert.strictEqual(flipped.total.agent, ref.total.agent)
          // Refreshes make no optimizer call; each step asks K_sub children of every parent.
          const steps = ref.entries.filter((e) => e.entry.kind === "step")
          assert.strictEqual(
            ref.total.optimizer,
            steps.reduce((n, e) => n + e.parents * config.childrenPerParent, 0)
          )
          for (const e of ref.entries) {
            assert.isAtMost(e.parents, Math.max(1, config.beamWidth))
            if (e.entry.kind === "refresh") assert.strictEqual(e.calls.optimizer, 0)
          }
        })
      )
    })
  )

  it.effect("bounds every step of a maspo run that has no call-saving judge rules", () =>
    Effect.gen(function* () {
      for (const config of [paperDefaults, maspoDefaults]) {
        const ref = referenceCallCount(config, yield* makeTopology(chain))
        const run = yield* runWorld(SCRIPTED_WORLD, config, 3, false)
        assert.strictEqual(run.state.log.length, ref.entries.length)
        let previous = { agent: 0, optimizer: 0, evaluator: 0 }
        run.state.log.forEach((s, i) => {
          const now = {
            agent: s.budget.agent.calls,
            optimizer: s.budget.optimizer.calls,
            evaluator: s.budget.evaluator.calls
          }
          const r = ref.entries[i]!.calls
          assert.isAtMost(now.agent - previous.agent, r.agent)
          assert.isAtMost(now.optimizer - previous.optimizer, r.optimizer)
          assert.isAtMost(now.evaluator - previous.evaluator, r.evaluator)
          previous = now
        })
        // The scripted world's first two steps have full, distinct beams: the judge calls coincide.
        assert.strictEqual(run.state.log[0]!.budget.evaluator.calls, ref.entries[0]!.calls.evaluator)
        assert.strictEqual(
          run.state.log[1]!.budget.evaluator.calls,
          ref.entries[0]!.calls.evaluator + ref.entries[1]!.calls.evaluator
        )
      }
    })
  )
})

describe("the call-saving rules change no decision (acceptance)", () => {
  it.effect("simulator, maspo preset: 20 seeded runs take the same decisions with fewer judge calls", () =>
    Effect.gen(function* () {
      const topology = yield* makeTopology(simSequential)
      const ref = referenceCallCount(maspoDefaults, topology)
      let saving = 0
      let plain = 0
      for (const seed of SEEDS) {
        const on = yield* runWorld(SIM_WORLD, maspoDefaults, seed, true)
        const off = yield* runWorld(SIM_WORLD, maspoDefaults, seed, false)
        assert.deepStrictEqual(decisions(on.state), decisions(off.state), `seed ${seed}`)
        assert.deepStrictEqual(on.state.prompts, off.state.prompts)
        assert.isBelow(callsOf(on.state).evaluator, callsOf(off.state).evaluator, `seed ${seed}`)
        assert.strictEqual(callsOf(on.state).agent, callsOf(off.state).agent)
        assert.isAbove(on.saved.memo + on.saved.identical, 0)
        saving += callsOf(on.state).evaluator
        plain += callsOf(off.state).evaluator
      }
      assert.isBelow(saving, plain)
      // The target: at most 60% of the reference's evaluator calls.
      assert.isAtMost(saving, 0.6 * SEEDS.length * ref.total.evaluator)
    })
  )

  it.effect(
    "simulator, paper preset (one order per comparison): the default rules (memo only) change no decision",
    () =>
      Effect.gen(function* () {
        // evaluatorLayerFor turns the identical-output skip off when comparisons are asked in one order.
        const r = yield* compareSaving(SIM_WORLD, "paper", paperDefaults, SEEDS, true)
        assert.strictEqual(r.sameDecisions, SEEDS.length)
        assert.isBelow(r.withSaving.evaluator, r.withoutSaving.evaluator)
        assert.isAtMost(r.withSaving.evaluator, 0.6 * r.reference.evaluator)
      })
  )

  it.effect("scripted world: 20 seeded runs take the same decisions, never with more judge calls", () =>
    Effect.gen(function* () {
      for (const config of [maspoDefaults, paperDefaults]) {
        const r = yield* compareSaving(SCRIPTED_WORLD, "x", config, SEEDS)
        assert.strictEqual(r.sameDecisions, SEEDS.length)
        assert.isAtMost(r.withSaving.evaluator, r.withoutSaving.evaluator)
        assert.isAtMost(r.withSaving.evaluator, r.reference.evaluator)
        assert.isBelow(r.withSaving.agent, r.reference.agent)
      }
    })
  )
})
