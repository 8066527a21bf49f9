import { assert, describe, it } from "@effect/vitest"
import {
  maspoDefaults,
  type OptimizerConfig,
  type OptimizerState,
  paperDefaults,
  SWITCHES
} from "@maspo/core"
import { Effect } from "effect"
import { runWorld, SIM_WORLD } from "../../../bench/callSaving.ts"

const callsOf = (s: OptimizerState, i: number) => {
  const b = s.log[i]!.budget
  return { agent: b.agent.calls, optimizer: b.optimizer.calls, evaluator: b.evaluator.calls }
}

/** Everything a run decided and spent, to tell two runs apart. */
const fingerprint = (s: OptimizerState) =>
  JSON.stringify({ prompts: s.prompts, agents: s.agents, log: s.log })

describe("the paper preset (the released algorithm) on the simulator", () => {
  it.effect("first step of the default sequential run: 120 agent / 2 optimizer / 60 evaluator calls", () =>
    Effect.gen(function* () {
      for (const seed of [1, 2, 3]) {
        const run = yield* runWorld(SIM_WORLD, paperDefaults, seed, true, 1)
        // One member: its run on 10 items (4 calls each), two distinct candidates each re-running both
        // agents (80) and judged locally, by lookahead and globally on 10 items (60).
        assert.deepStrictEqual(
          callsOf(run.state, 0),
          { agent: 120, optimizer: 2, evaluator: 60 },
          `seed ${seed}`
        )
        assert.strictEqual(run.saved.memo + run.saved.identical, 0)
      }
    })
  )

  it.effect("a full default run makes two proposal calls per member: 68 optimizer calls", () =>
    Effect.gen(function* () {
      const run = yield* runWorld(SIM_WORLD, paperDefaults, 3, true)
      assert.strictEqual(run.state.log.length, 22)
      assert.strictEqual(callsOf(run.state, 21).optimizer, 68)
      // The beam keeps duplicates, so every later step has two members with a batch each.
      for (const s of run.state.log.slice(1))
        if (s.kind === "step" && s.step > 0) assert.strictEqual(s.batches?.length, 2)
    })
  )

  it.effect(
    "every maspo switch, set alone on the paper preset, changes the run (none is ignored)",
    () =>
      Effect.gen(function* () {
        const small: OptimizerConfig = { ...paperDefaults, rounds: 2, stepsPerVisit: 2 }
        const base = fingerprint((yield* runWorld(SIM_WORLD, small, 4, true)).state)
        // Effects this run does not show are pinned in switches.test.ts's scripted worlds: the
        // simulator's compression replies are within the limit, its proposals hold no LaTeX and are
        // never unusable or equal to their parent, its judge always names a letter, its outputs are
        // never empty, and no refresh here finds the best outside the beam or only the best in it.
        const elsewhere = new Set([
          "enforceWordLimit",
          "latexAwareSlots",
          "tiesAtHalf",
          "skipIdenticalOutputs",
          "lookaheadPooled",
          "dedupeBeam",
          "failedProposalKeepsParent",
          "keepBestOnRefresh",
          "skipIdleRefreshRun"
        ])
        // The paper set's proposal request shows no feedback (the CLI refuses the note with it), so
        // the note is compared on maspo's requests.
        const withRequests: Partial<Record<string, Partial<OptimizerConfig>>> = {
          caseFeedbackNote: { templateSet: "maspo", singleJudgeRequest: true }
        }
        const unchanged: Array<string> = []
        for (const name of SWITCHES) {
          if (elsewhere.has(name)) continue
          const requests = withRequests[name]
          const from = requests ? { ...small, ...requests } : small
          const reference = requests ? fingerprint((yield* runWorld(SIM_WORLD, from, 4, true)).state) : base
          const config = { ...from, [name]: maspoDefaults[name] } as OptimizerConfig
          const run = yield* runWorld(SIM_WORLD, config, 4, true)
          if (fingerprint(run.state) === reference) unchanged.push(name)
        }
        assert.deepStrictEqual(unchanged, [])
      }),
    120_000
  )
})
