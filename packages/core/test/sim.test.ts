import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import {
  type LMRequest,
  mean,
  pairedBootstrap,
  pairwiseMessages,
  parseRefineReply,
  parseVerdict,
  refineMessages,
  slotProblems
} from "@maspo/core"
import {
  arithTestItems,
  chainValues,
  compress,
  DIRECTIVES,
  type DirectiveId,
  directivesOf,
  directiveSentence,
  distanceToOptimum,
  expectedAccuracy,
  extractArith,
  generateArithItems,
  optimumPrompts,
  parseProblem,
  parseSummary,
  problemText,
  promptsWith,
  searchOptimum,
  SIM_OPTIMUM,
  SIM_TOPOLOGIES,
  simReply,
  simSequential
} from "@maspo/core/sim"
import { simScores } from "./simTesting.ts"

const ids = DIRECTIVES.map((d) => d.id)
const NEUTRAL = [
  "Solve",
  "the",
  "problem",
  "below",
  "carefully.",
  "You",
  "are",
  "an",
  "agent",
  "in",
  "a",
  "team."
]

describe("directives", () => {
  it("finds exactly the directives a prompt states, in any paraphrase, case and punctuation", () =>
    fc.assert(
      fc.property(
        fc.subarray(ids),
        fc.array(fc.nat(), { minLength: ids.length, maxLength: ids.length }),
        fc.array(fc.constantFrom(...NEUTRAL), { maxLength: 12 }),
        fc.boolean(),
        (chosen, paraphrase, filler, upper) => {
          const sentences = chosen.map((id, i) => directiveSentence(id, paraphrase[i]!))
          const text = [filler.join(" "), ...sentences, "{question}", "{context}"].join("\n")
          const found = directivesOf(upper ? text.toUpperCase() : text)
          assert.deepStrictEqual(
            found,
            ids.filter((id) => chosen.includes(id))
          )
        }
      )
    ))

  it("ignores text it does not know", () => {
    assert.deepStrictEqual(directivesOf("You are a helpful assistant. Consider the problem and reply."), [])
  })
})

describe("arith items", () => {
  it("are reproducible from a seed, with answers of at least 10, and parse back from their text", () => {
    const a = generateArithItems(7, 50, "pool")
    assert.deepStrictEqual(a, generateArithItems(7, 50, "pool"))
    assert.notDeepEqual(a, generateArithItems(8, 50, "pool"))
    for (const item of a) {
      const p = parseProblem(`noise before ${item.question} noise after`)!
      assert.strictEqual(String(chainValues(p).at(-1)), item.gold)
      assert.isAtLeast(Number(item.gold), 10)
    }
  })

  it("test and pool items never share an id", () => {
    const test = new Set(arithTestItems().map((i) => i.id))
    assert.isFalse(generateArithItems(3, 200, "pool").some((i) => test.has(i.id)))
  })

  it("problem text round-trips (property)", () =>
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 99 }),
        fc.array(
          fc.record({
            kind: fc.constantFrom("add" as const, "sub" as const, "mul" as const),
            operand: fc.integer({ min: 1, max: 50 })
          }),
          { minLength: 1, maxLength: 8 }
        ),
        (start, ops) => {
          const p = parseProblem(problemText("x-1", { start, ops }))!
          assert.deepStrictEqual({ start: p.start, ops: p.ops }, { start, ops })
        }
      )
    ))

  it("extraction takes the last answer tag, else the last integer (property)", () =>
    fc.assert(
      fc.property(
        fc.integer({ min: -999, max: 999 }),
        fc.integer({ min: -999, max: 999 }),
        fc.string(),
        (a, b, s) => {
          const noise = s.replace(/[-\d<>]/g, "")
          assert.strictEqual(
            extractArith(`${noise} <answer>${b}</answer> ${noise} <answer>${a}</answer>${noise}`),
            String(a)
          )
          assert.strictEqual(extractArith(`${noise} ${b} ${noise} ${a} ${noise}`), String(a))
        }
      )
    ))
})

const agentRequest = (content: string, seed: number, sampleIndex: number): LMRequest => ({
  messages: [{ role: "user", content }],
  model: "maspo-sim-1",
  temperature: 0,
  maxTokens: 256,
  seed,
  sampleIndex
})

describe("simulator", () => {
  it("same request and seed give the same text, byte for byte (property)", () => {
    const items = generateArithItems(11, 20, "prop")
    fc.assert(
      fc.property(
        fc.constantFrom(...items),
        fc.subarray(ids),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.nat(5),
        fc.constantFrom("solver", "reviewer"),
        (item, chosen, seed, sampleIndex, who) => {
          const prompt =
            who === "solver"
              ? `You are the solver. ${chosen.map((d) => directiveSentence(d)).join(" ")}\n${item.question}\n`
              : `You are the reviewer. ${chosen.map((d) => directiveSentence(d)).join(" ")}\n${item.question}\n[solver] Values 1, 2; answer ${item.gold}.`
          const request = agentRequest(prompt, seed, sampleIndex)
          const first = simReply(request)
          assert.strictEqual(simReply(structuredClone(request)), first)
          const summary = simReply(
            agentRequest(
              `Compress the following agent output into a summary of at most 30 words. x\n\n<output>\n${first}\n</output>`,
              seed,
              0
            )
          )
          assert.strictEqual(
            summary,
            simReply(
              agentRequest(
                `Compress the following agent output into a summary of at most 30 words. x\n\n<output>\n${first}\n</output>`,
                seed,
                0
              )
            )
          )
        }
      ),
      { numRuns: 300 }
    )
  })

  it("an output shows what its prompt induced, and the compression keeps values only when listed", () => {
    const item = arithTestItems(1)[0]!
    const run = (ds: ReadonlyArray<DirectiveId>) =>
      simReply(
        agentRequest(
          `You are the solver. ${ds.map((d) => directiveSentence(d)).join(" ")}\n${item.question}`,
          1,
          0
        )
      )
    const steps = run(["step_by_step", "check_steps", "answer_tags"])
    assert.match(steps, /^Step 1: /m)
    assert.match(steps, /^check: /m)
    assert.match(steps, /<answer>-?\d+<\/answer>/)
    const listed = run(["state_intermediate"])
    assert.match(compress(listed, 30), /^Values /)
    assert.isDefined(parseSummary(compress(listed, 30)).values)
    const bare = run(["final_only", "state_intermediate", "answer_tags"])
    assert.match(bare, /^<answer>-?\d+<\/answer>$/)
    assert.isTrue(parseSummary(compress(bare, 30)).bare)
    assert.isUndefined(parseSummary(compress(steps, 30)).values)
  })

  it("the optimizer keeps both slots, writes a parseable reply, and answers visible failures", () => {
    const items = generateArithItems(5, 10, "opt")
    const prompt = simSequential.nodes[0]!.kind === "agent" ? simSequential.nodes[0]!.prompt : ""
    const traces = items.map((item) => ({
      question: item.question,
      context: "",
      output: `Working it out.\nThe final value is <answer>${Number(item.gold) + 1}</answer>`
    }))
    const added = new Map<string, number>()
    for (let s = 0; s < 200; s++) {
      const reply = simReply({
        ...agentRequest(refineMessages({ agentRole: "solver", prompt, traces })[0]!.content, 3, s),
        temperature: 0.7
      })
      const parsed = parseRefineReply(reply)!
      assert.isDefined(parsed)
      const problems = slotProblems(parsed.newPrompt)
      assert.deepStrictEqual([problems.missing, problems.unknown, problems.duplicated].flat(), [])
      for (const d of directivesOf(parsed.newPrompt))
        if (!directivesOf(prompt).includes(d)) added.set(d, (added.get(d) ?? 0) + 1)
    }
    // All traces are wrong and show neither steps nor checks: those fixes dominate the proposals.
    const top = [...added.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 2)
      .map(([d]) => d)
      .sort()
    assert.deepStrictEqual(top, ["check_steps", "step_by_step"])
  })
})

describe("analytic model and optimum", () => {
  it.effect(
    "the exact expected accuracy matches the executor's simulated accuracy",
    () =>
      Effect.gen(function* () {
        const items = generateArithItems(21, 400, "check")
        for (const [name, spec] of Object.entries(SIM_TOPOLOGIES)) {
          for (const prompts of [
            {},
            optimumPrompts(name as "sequential"),
            promptsWith(spec, { [spec.terminal]: ["always_improve", "quick"] })
          ]) {
            const scores = [
              ...(yield* simScores(spec, prompts, items, 1)),
              ...(yield* simScores(spec, prompts, items, 2))
            ]
            const expected = expectedAccuracy(spec, prompts, items)
            const se = Math.sqrt((expected * (1 - expected)) / scores.length)
            assert.isBelow(
              Math.abs(mean(scores) - expected),
              4 * se + 1e-9,
              `${name}: simulated ${mean(scores)} vs exact ${expected}`
            )
          }
        }
      }),
    60_000
  )

  it("the documented optimum is what an exhaustive search finds, and it beats the seed prompts", () => {
    const items = arithTestItems()
    for (const name of ["sequential", "hierarchical"] as const) {
      const spec = SIM_TOPOLOGIES[name]!
      const found = searchOptimum(spec, items)
      assert.deepStrictEqual(found.assignment, SIM_OPTIMUM[name].assignment)
      assert.closeTo(found.accuracy, SIM_OPTIMUM[name].accuracy, 1e-12)
      assert.closeTo(expectedAccuracy(spec, optimumPrompts(name), items), SIM_OPTIMUM[name].accuracy, 1e-12)
      assert.closeTo(expectedAccuracy(spec, {}, items), SIM_OPTIMUM[name].seedAccuracy, 1e-12)
      assert.isAbove(SIM_OPTIMUM[name].accuracy, SIM_OPTIMUM[name].seedAccuracy + 0.2)
      assert.strictEqual(distanceToOptimum(name, optimumPrompts(name)), 0)
      assert.isAbove(distanceToOptimum(name, {}), 0)
    }
  }, 60_000)

  it.effect(
    "the optimum beats the seed prompts when run through the executor",
    () =>
      Effect.gen(function* () {
        const items = arithTestItems(200)
        const seed = yield* simScores(simSequential, {}, items, 4)
        const best = yield* simScores(simSequential, optimumPrompts("sequential"), items, 4)
        const test = pairedBootstrap(best, seed, { seed: 1 })
        assert.isAbove(test.ci.low, 0)
      }),
    60_000
  )
})

describe("local and global objectives conflict", () => {
  const LOCAL_SEARCH: ReadonlyArray<DirectiveId> = [
    "step_by_step",
    "check_steps",
    "state_intermediate",
    "final_only",
    "answer_tags",
    "restate_problem",
    "read_carefully"
  ]
  const reviewer = SIM_OPTIMUM.sequential.assignment.reviewer!
  const solverOutput = (prompt: string, question: string, seed: number) =>
    simReply(agentRequest(prompt.replace("{question}", question).replace("{context}", ""), seed, 0))
  /** Mean preference of the local judge (both orders) for a solver prompt over the seed solver prompt. */
  const localPreference = (
    prompt: string,
    seedPrompt: string,
    items: ReadonlyArray<{ question: string }>,
    seed: number
  ) =>
    mean(
      items.flatMap((item) => {
        const a = solverOutput(prompt, item.question, seed)
        const b = solverOutput(seedPrompt, item.question, seed)
        const ask = (x: string, y: string) =>
          parseVerdict(
            simReply(
              agentRequest(
                pairwiseMessages({ question: item.question, level: "local", a: x, b: y })[0]!.content,
                seed,
                0
              )
            )
          )
        return [ask(a, b) === "A" ? 1 : 0, ask(b, a) === "B" ? 1 : 0]
      })
    )

  it.effect(
    "the solver prompt a local judge prefers most makes the system worse than the documented optimum",
    () =>
      Effect.gen(function* () {
        const items = generateArithItems(31, 150, "local")
        const seedPrompt = (simSequential.nodes[0] as { prompt: string }).prompt
        let best = { pref: -1, set: [] as ReadonlyArray<DirectiveId> }
        for (let mask = 0; mask < 1 << LOCAL_SEARCH.length; mask++) {
          const set = LOCAL_SEARCH.filter((_, i) => (mask >> i) & 1)
          const prompt = promptsWith(simSequential, { solver: set, reviewer }).solver!
          const pref = localPreference(prompt, seedPrompt, items, 5)
          if (pref > best.pref) best = { pref, set }
        }
        // The local judge rewards terse answers: its favourite solver hides the values the reviewer needs.
        assert.include(best.set, "final_only")
        const local = promptsWith(simSequential, { solver: best.set, reviewer })
        const optimum = optimumPrompts("sequential")
        const test = arithTestItems(300)
        const a: Array<number> = []
        const b: Array<number> = []
        for (const seed of [1, 2, 3]) {
          a.push(...(yield* simScores(simSequential, optimum, test, seed)))
          b.push(...(yield* simScores(simSequential, local, test, seed)))
        }
        const diff = pairedBootstrap(a, b, { seed: 9 })
        assert.isAbove(
          diff.ci.low,
          0,
          `optimum - local optimum = ${diff.diff}, CI [${diff.ci.low}, ${diff.ci.high}]`
        )
        assert.isBelow(expectedAccuracy(simSequential, local, test), SIM_OPTIMUM.sequential.accuracy)
      }),
    120_000
  )
})
