import { assert, describe, expect, it } from "@effect/vitest"
import {
  Budget,
  defaultRoleDefaults,
  deriveSeed,
  initialState,
  judgeRequest,
  LanguageModel,
  type LanguageModelClient,
  type LMRequest,
  makeTopology,
  type OptimizeInput,
  PAPER_TEMPLATES,
  PairwiseJudge,
  paperDefaults,
  readRequest,
  RequestTemplates,
  type RoleClients,
  runMaspo,
  scriptedLanguageModel,
  seedPrompts,
  stripLabels,
  templatesLayerFor
} from "@maspo/core"
import { arithTask, generateArithItems, simClients, simSequential } from "@maspo/core/sim"
import { Effect, Layer } from "effect"
import { searchLayerFor } from "../src/index.ts"

/**
 * The paper preset, end to end on the simulator: every request is built from the `paper` template
 * set (the judge's three requests by level, the terminal agent by the answer evaluation), the
 * simulator answers each of them, and the search runs through its whole schedule, refresh included.
 */

const recorded: Array<{ role: string; request: LMRequest }> = []
const recording = (clients: RoleClients): RoleClients => {
  const wrap = (role: keyof RoleClients): LanguageModelClient => ({
    ...clients[role],
    generate: (request) => {
      recorded.push({ role, request })
      return clients[role].generate(request)
    }
  })
  return { agent: wrap("agent"), optimizer: wrap("optimizer"), evaluator: wrap("evaluator") }
}

const config = { ...paperDefaults, rounds: 2, stepsPerVisit: 1 }
const seed = 5

// The preset's switches and its template set, as the CLI runs it.
const layer = searchLayerFor(config, seed).pipe(
  Layer.provideMerge(LanguageModel.layer(recording(simClients()), defaultRoleDefaults(seed))),
  Layer.provideMerge(Budget.layer),
  Layer.provideMerge(templatesLayerFor(config))
)

describe("paper preset on the simulator", () => {
  it.effect("builds every request from the paper set and runs its whole schedule", () =>
    Effect.gen(function* () {
      const topology = yield* makeTopology(simSequential)
      const input: OptimizeInput = {
        topology,
        task: arithTask,
        pool: stripLabels(generateArithItems(deriveSeed(seed, "arith-pool"), config.poolSize, "pool")),
        prompts: seedPrompts(topology),
        config,
        seed,
        concurrency: 8
      }
      const state = yield* runMaspo(input, initialState(input))
      // Two rounds of one step per agent, and a refresh before each agent's second visit.
      expect(state.log.map((s) => `${s.agentId} ${s.kind}`)).toEqual([
        "solver step",
        "reviewer step",
        "solver refresh",
        "solver step",
        "reviewer refresh",
        "reviewer step"
      ])
      const kinds = new Map<string, number>()
      for (const { role, request } of recorded) {
        const read = readRequest([PAPER_TEMPLATES], request.messages[0]!.content)
        const kind = read?.kind ?? "agent-answer"
        kinds.set(`${role} ${kind}`, (kinds.get(`${role} ${kind}`) ?? 0) + 1)
        if (kind === "agent-answer") assert.strictEqual(request.maxTokens, 4096)
        if (kind === "judge-answer") assert.strictEqual(request.maxTokens, 16384)
        if (kind === "propose") assert.deepStrictEqual([request.temperature, request.maxTokens], [0.7, 16384])
        if (kind === "compress" || kind === "judge-intermediate" || kind === "judge-final")
          assert.deepStrictEqual([request.temperature, request.maxTokens], [0, 4096])
      }
      // Only the paper's request kinds, each from its own role; no generic judge request.
      expect([...kinds.keys()].sort()).toEqual([
        "agent agent-answer",
        "agent compress",
        "evaluator judge-answer",
        "evaluator judge-final",
        "evaluator judge-intermediate",
        "optimizer propose"
      ])
      // Proposals are parsed by the paper's <prompt> rule: the simulator's replies give candidates.
      expect(state.log.filter((s) => s.kind === "step").every((s) => s.children.length > 0)).toBe(true)
    }).pipe(Effect.provide(layer))
  )
})

describe("a template's token limit", () => {
  const ask = (fixed: boolean) =>
    Effect.gen(function* () {
      recorded.length = 0
      const lm = yield* LanguageModel
      yield* lm.generate(
        "evaluator",
        judgeRequest(PAPER_TEMPLATES, "judge-answer", { question: "q", level: "global", a: "x", b: "y" })
      )
      return recorded[0]!.request.maxTokens
    }).pipe(
      Effect.provide(
        LanguageModel.layer(recording(simClients()), {
          ...defaultRoleDefaults(seed),
          evaluator: { temperature: 0, maxTokens: 64, seed, ...(fixed ? { fixedMaxTokens: true } : {}) }
        }).pipe(Layer.provideMerge(Budget.layer))
      )
    )

  it.effect("applies unless the role's provider config sets maxTokens", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* ask(false), 16384)
      assert.strictEqual(yield* ask(true), 64)
    })
  )
})

describe("the paper set's verdict rule, through the judge", () => {
  const verdictOf = (reply: string, options: { debiasPosition: boolean }) =>
    Effect.gen(function* () {
      const judge = yield* PairwiseJudge
      return yield* judge.compare(
        { question: "q", level: "local", reference: "r", candidate: "c", kind: "judge-intermediate" },
        {
          ...options,
          candidateFirst: true,
          tiesAtHalf: false,
          seed,
          skipIdentical: false,
          memoize: false
        }
      )
    }).pipe(
      Effect.provide(
        PairwiseJudge.layer.pipe(
          Layer.provideMerge(scriptedLanguageModel(() => reply)),
          Layer.provideMerge(Layer.succeed(RequestTemplates, PAPER_TEMPLATES))
        )
      )
    )

  it.effect("a reply naming no letter is the candidate's win in either order; otherwise A or B", () =>
    Effect.gen(function* () {
      for (const debiasPosition of [false, true]) {
        assert.strictEqual(yield* verdictOf("42 / 7", { debiasPosition }), 1)
        assert.strictEqual(yield* verdictOf("", { debiasPosition }), 1)
      }
      // Candidate first: A is the candidate.
      assert.strictEqual(
        yield* verdictOf("<analyse>B is short</analyse><choose>A</choose>", { debiasPosition: false }),
        1
      )
      assert.strictEqual(yield* verdictOf("B", { debiasPosition: false }), 0)
      // Both orders with the same letter disagree: without ties, a loss.
      assert.strictEqual(yield* verdictOf("A", { debiasPosition: true }), 0)
    })
  )
})
