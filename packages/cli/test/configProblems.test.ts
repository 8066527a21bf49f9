import { describe, expect, it } from "@effect/vitest"
import { NodeServices } from "@effect/platform-node"
import { Effect, Option, Schema } from "effect"
import * as fc from "fast-check"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import {
  Fraction,
  type InputError,
  NonNegativeInt,
  OptimizerConfig,
  PositiveInt,
  Port,
  RunConfig
} from "@maspo/core"
import { distance } from "fastest-levenshtein"
import { parseWeights } from "../src/commands/optimize.ts"
import { validateExperiment } from "../src/commands/run.ts"
import {
  decodeStrict,
  fileLine,
  jsonPath,
  lineOfPath,
  type Problem,
  suggestName
} from "../src/configProblems.ts"
import { ExperimentConfig } from "../src/experiment/config.ts"
import { resolveRunConfig } from "../src/runConfig.ts"

const root = fileURLToPath(new URL("../../../", import.meta.url))

const problems = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  input: unknown
): ReadonlyArray<Problem> => {
  const decoded = decodeStrict(schema, input)
  return "problems" in decoded ? decoded.problems : []
}

const described = (ps: ReadonlyArray<Problem>) => ps.map((p) => `${jsonPath(p.path)}: ${p.message}`)

const experiment = {
  name: "e",
  out: "/tmp/e",
  tasks: ["arith"],
  topologies: ["sequential"],
  methods: [
    { name: "seed", kind: "seed" },
    { name: "maspo", kind: "maspo" }
  ],
  seeds: [0, 1]
}

describe("field paths and suggestions", () => {
  it("jsonPath writes array indices and odd keys the way JSON paths are read", () => {
    expect(jsonPath(["methods", 2, "ablaton"])).toBe("methods[2].ablaton")
    expect(jsonPath(["paper", "gpt-4o", "aqua"])).toBe('paper["gpt-4o"].aqua')
    expect(jsonPath([])).toBe("(top level)")
  })

  it("a one-edit slip of a known name of three or more letters suggests a name one edit away (property)", () => {
    const name = fc.stringMatching(/^[a-z][a-zA-Z]{2,11}$/)
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 12 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom("insert", "delete", "replace"),
        fc.stringMatching(/^[a-z]$/),
        (known, which, at, edit, letter) => {
          const target = known[which % known.length]!
          const i = at % target.length
          const typo =
            edit === "insert"
              ? target.slice(0, i) + letter + target.slice(i)
              : edit === "delete"
                ? target.slice(0, i) + target.slice(i + 1)
                : target.slice(0, i) + letter + target.slice(i + 1)
          const near = suggestName(typo, known)
          expect(near).toBeDefined()
          expect(known).toContain(near)
          expect(distance(typo.toLowerCase(), near!.toLowerCase())).toBeLessThanOrEqual(1)
        }
      )
    )
  })

  it("a suggestion is always a known name within the limit, and a far word gets none (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 8 }),
        fc.string({ maxLength: 12 }),
        (known, word) => {
          const near = suggestName(word, known)
          if (near === undefined) return
          expect(known).toContain(near)
          expect(distance(word.toLowerCase(), near.toLowerCase())).toBeLessThanOrEqual(
            Math.max(1, Math.floor(word.length / 3))
          )
        }
      )
    )
    expect(suggestName("testn", ["testN", "tasks"])).toBe("testN")
    expect(suggestName("providers", ["seed", "task"])).toBeUndefined()
  })

  it("lineOfPath finds the line of any key of a pretty-printed object (property)", () => {
    const key = fc.stringMatching(/^[a-z]{1,6}$/)
    const tree: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.integer(),
        fc.string({ maxLength: 4 }),
        fc.dictionary(key, tie("node"), { maxKeys: 4 }),
        fc.array(tie("node"), { maxLength: 3 })
      )
    })).node
    const paths = (v: unknown, at: Array<PropertyKey> = []): Array<Array<PropertyKey>> =>
      Array.isArray(v)
        ? v.flatMap((x, i) => [[...at, i], ...paths(x, [...at, i])])
        : typeof v === "object" && v !== null
          ? Object.entries(v).flatMap(([k, x]) => [[...at, k], ...paths(x, [...at, k])])
          : []
    fc.assert(
      fc.property(fc.dictionary(key, tree, { minKeys: 1, maxKeys: 4 }), (value) => {
        const text = JSON.stringify(value, null, 2)
        const lines = text.split("\n")
        for (const path of paths(value)) {
          const line = lineOfPath(text, path)!
          const last = path[path.length - 1]!
          if (typeof last === "string") expect(lines[line - 1]).toContain(`${JSON.stringify(last)}:`)
          else {
            // An element starts on its own line, after its array's opening bracket.
            let node: unknown = value
            for (const k of path) node = (node as Record<PropertyKey, unknown>)[k]
            const start = JSON.stringify(node, null, 2).split("\n")[0]!
            expect(lines[line - 1]!.trim().startsWith(start.trim())).toBe(true)
          }
        }
      })
    )
  })

  it("a missing field is placed on the line of the nearest enclosing field", () => {
    const text = '{\n  "a": {\n    "b": 1\n  }\n}'
    expect(lineOfPath(text, ["a", "c"])).toBe(2)
    expect(fileLine("f.json", text)(["a", "b"])).toBe("f.json:3")
  })
})

describe("rejected config fields", () => {
  it("unknown fields anywhere in an experiment are problems, with the closest known name", () => {
    const bad = {
      ...experiment,
      testn: 5,
      methods: [
        { name: "seed", kind: "seed" },
        { name: "maspo", kind: "maspo", ablaton: "local-only", optimizer: { beamWidht: 2 } }
      ],
      optimizer: { rouns: 1 },
      budget: { maxCall: 10 },
      providers: { agent: { kind: "sim", temprature: 1, sim: { judgeAcuracy: 0.5 } }, evaluatr: {} },
      split: { sead: 1 },
      cache: { mod: "off" }
    }
    expect(described(problems(ExperimentConfig, bad)).sort()).toEqual(
      [
        "testn: unknown field; did you mean `testN`?",
        "methods[1].ablaton: unknown field; did you mean `ablation`?",
        "methods[1].optimizer.beamWidht: unknown field; did you mean `beamWidth`?",
        "optimizer.rouns: unknown field; did you mean `rounds`?",
        "budget.maxCall: unknown field; did you mean `maxCalls`?",
        "providers.agent.temprature: unknown field; did you mean `temperature`?",
        "providers.agent.sim.judgeAcuracy: unknown field; did you mean `judgeAccuracy`?",
        "providers.evaluatr: unknown field; did you mean `evaluator`?",
        "split.sead: unknown field; did you mean `seed`?",
        "cache.mod: unknown field; did you mean `mode`?"
      ].sort()
    )
  })

  it("an unknown key anywhere in a valid experiment is the one problem, at its path (property)", () => {
    const places: ReadonlyArray<ReadonlyArray<string | number>> = [
      [],
      ["methods", 1],
      ["methods", 1, "optimizer"],
      ["optimizer"],
      ["budget"],
      ["split"],
      ["cache"],
      ["providers", "agent"],
      ["providers", "agent", "sim"]
    ]
    const valid = {
      ...experiment,
      methods: [
        { name: "seed", kind: "seed" },
        { name: "maspo", kind: "maspo", optimizer: {} }
      ],
      optimizer: {},
      budget: {},
      split: {},
      cache: {},
      providers: { agent: { kind: "sim", sim: {} } }
    }
    expect(problems(ExperimentConfig, valid)).toEqual([])
    fc.assert(
      fc.property(fc.constantFrom(...places), fc.stringMatching(/^zz[a-z]{0,8}$/), (place, key) => {
        const config = structuredClone(valid) as Record<string, unknown>
        let node = config
        for (const k of place) node = (node as Record<string | number, unknown>)[k] as Record<string, unknown>
        node[key] = 1
        const found = problems(ExperimentConfig, config)
        expect(found.map((p) => p.path)).toEqual([[...place, key]])
        expect(found[0]!.message).toMatch(/^unknown field; /)
      })
    )
  })

  it("an item count is accepted exactly when it is an integer >= 1 (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double({ noNaN: true })), (n) => {
        const found = problems(ExperimentConfig, { ...experiment, testN: n })
        expect(found.length === 0).toBe(Number.isSafeInteger(n) && n >= 1)
        for (const p of found) expect(p.path).toEqual(["testN"])
      })
    )
  })

  it("a field far from every known one lists the allowed fields", () => {
    expect(described(problems(RunConfig.fields.split, { colour: 1 }))).toEqual([
      "colour: unknown field; allowed here: seed, mode"
    ])
  })

  it("a misspelt choice names the closest one", () => {
    expect(
      described(problems(ExperimentConfig, { ...experiment, methods: [{ name: "m", kind: "maspoo" }] }))
    ).toEqual([
      'methods[0].kind: expected one of seed, single, maspo, spo, ape, tpe, gepa, transfer, got "maspoo"; did you mean `maspo`?'
    ])
  })

  it("every number out of its range is a problem naming the range and the value", () => {
    const bad = {
      ...experiment,
      seeds: [-1, 1.5],
      testN: 0,
      concurrency: 0,
      questionConcurrency: -2,
      budget: { maxCalls: 0, maxTokens: -5 },
      optimizer: {
        beamWidth: 0,
        childrenPerParent: 0,
        stepsPerVisit: 0,
        rounds: 0,
        batchSize: -1,
        poolSize: 0,
        misalignmentCases: -1,
        lookaheadDepth: 0,
        weights: { local: 0, lookahead: 0, global: 0 }
      },
      providers: {
        agent: {
          kind: "openai",
          temperature: -0.1,
          maxTokens: 0,
          timeoutMs: 0,
          maxRetries: -1,
          concurrency: 0,
          rpm: 0,
          tpm: -1
        },
        evaluator: {
          kind: "sim",
          sim: { judgeAccuracy: 1.5, positionBias: -0.1, brevityBias: 0.6, optimizerNoise: 2, lureWeight: -1 }
        }
      },
      split: { seed: -3 }
    }
    expect(described(problems(ExperimentConfig, bad)).sort()).toEqual(
      [
        "seeds[0]: expected an integer >= 0, got -1",
        "seeds[1]: expected an integer >= 0, got 1.5",
        "testN: expected an integer >= 1, got 0",
        "concurrency: expected an integer >= 1, got 0",
        "questionConcurrency: expected an integer >= 1, got -2",
        "budget.maxCalls: expected an integer >= 1, got 0",
        "budget.maxTokens: expected an integer >= 1, got -5",
        "optimizer.beamWidth: expected an integer >= 1, got 0",
        "optimizer.childrenPerParent: expected an integer >= 1, got 0",
        "optimizer.stepsPerVisit: expected an integer >= 1, got 0",
        "optimizer.rounds: expected an integer >= 1, got 0",
        "optimizer.batchSize: expected an integer >= 1, got -1",
        "optimizer.poolSize: expected an integer >= 1, got 0",
        "optimizer.misalignmentCases: expected an integer >= 0, got -1",
        "optimizer.lookaheadDepth: expected an integer >= 1, got 0",
        'optimizer.weights: expected weights that are not all zero, got {"local":0,"lookahead":0,"global":0}',
        "providers.agent.temperature: expected a number >= 0, got -0.1",
        "providers.agent.maxTokens: expected an integer >= 1, got 0",
        "providers.agent.timeoutMs: expected an integer >= 1, got 0",
        "providers.agent.maxRetries: expected an integer >= 0, got -1",
        "providers.agent.concurrency: expected an integer >= 1, got 0",
        "providers.agent.rpm: expected a number > 0, got 0",
        "providers.agent.tpm: expected a number > 0, got -1",
        "providers.evaluator.sim.judgeAccuracy: expected a number in [0, 1], got 1.5",
        "providers.evaluator.sim.positionBias: expected a number in [0, 1], got -0.1",
        "providers.evaluator.sim.brevityBias: expected a number in [-0.5, 0.5], got 0.6",
        "providers.evaluator.sim.optimizerNoise: expected a number in [0, 1], got 2",
        "providers.evaluator.sim.lureWeight: expected a number >= 0, got -1",
        "split.seed: expected an integer >= 0, got -3"
      ].sort()
    )
  })

  it("the range schemas accept exactly their ranges (property)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: false }), (x) => {
        expect(Schema.is(PositiveInt)(x)).toBe(Number.isSafeInteger(x) && x >= 1)
        expect(Schema.is(NonNegativeInt)(x)).toBe(Number.isSafeInteger(x) && x >= 0)
        expect(Schema.is(Fraction)(x)).toBe(x >= 0 && x <= 1)
        expect(Schema.is(Port)(x)).toBe(Number.isInteger(x) && x >= 0 && x <= 65535)
      })
    )
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 70000 }), (x) => {
        expect(Schema.is(PositiveInt)(x)).toBe(x >= 1)
        expect(Schema.is(Port)(x)).toBe(x >= 0 && x <= 65535)
      })
    )
  })

  it("--weights takes three non-negative numbers, not all zero", () => {
    const ok = (text: string) => Effect.runSync(Effect.result(parseWeights(text)))._tag === "Success"
    expect(ok("0.4,0.4,0.2")).toBe(true)
    expect(ok("0,0,1")).toBe(true)
    for (const bad of ["0,0,0", "-1,1,1", "1,1", "1,1,1,1", "a,b,c", "1,,1", "Infinity,0,0"])
      expect(ok(bad)).toBe(false)
  })

  it("the optimizer's schema is the one config overrides use", () => {
    expect(Schema.is(OptimizerConfig.fields.beamWidth)(0)).toBe(false)
  })
})

describe("experiment checks beyond the schema", () => {
  const where = (path: ReadonlyArray<PropertyKey>) => `exp.json@${jsonPath(path)}`
  const fails = (config: Record<string, unknown>) =>
    Effect.runSync(Effect.flip(validateExperiment(Schema.decodeUnknownSync(ExperimentConfig)(config), where)))

  it("duplicate seeds are rejected at the repeated one", () => {
    const e = fails({ ...experiment, seeds: [0, 1, 0] })
    expect(e.source).toBe("exp.json@seeds[2]")
    expect(e.message).toBe("seeds[2]: seed 0 is listed twice")
  })

  it("an unknown task or a topology a task lacks is named by its index", () => {
    expect(fails({ ...experiment, tasks: ["arth"] }).message).toBe(
      "tasks[0]: unknown task 'arth'; did you mean `arith`?"
    )
    const e = fails({ ...experiment, topologies: ["sequential", "debate"] })
    expect(e.source).toBe("exp.json@topologies[1]")
    expect(e.message).toContain("task 'arith' has no topology 'debate'")
  })

  it("a baseline or published numbers under a name that is not a row or column are rejected", () => {
    expect(fails({ ...experiment, baseline: "sed" }).message).toBe(
      "baseline: unknown method 'sed'; did you mean `seed`?"
    )
    const e = fails({ ...experiment, paper: { maspoo: { arith: 1 }, maspo: { arth: 2, "Avg.": 3 } } })
    expect(e.message.split("\n")).toEqual([
      "paper.maspoo: unknown method 'maspoo'; did you mean `maspo`?",
      "exp.json@paper.maspo.arth: paper.maspo.arth: unknown task 'arth'; did you mean `arith`?"
    ])
  })

  it("self-refine cannot be optimized, only evaluated", () => {
    const e = fails({ ...experiment, topologies: ["self-refine"] })
    expect(e.source).toBe("exp.json@topologies[0]")
    expect(e.message).toContain("not optimized; methods 'maspo' would optimize it")
    Effect.runSync(
      validateExperiment(
        Schema.decodeUnknownSync(ExperimentConfig)({
          ...experiment,
          topologies: ["self-refine"],
          methods: [{ name: "seed", kind: "seed" }]
        }),
        where
      )
    )
  })

  it("a batch larger than the pool is rejected", () => {
    const e = fails({
      ...experiment,
      methods: [{ name: "m", kind: "maspo", optimizer: { batchSize: 20, poolSize: 10 } }]
    })
    expect(e.message).toBe(
      "methods[0].optimizer.batchSize: method 'm': batch size 20 exceeds the pool size 10"
    )
  })
})

describe("committed configs", () => {
  const configs = [
    ...readdirSync(`${root}results`)
      .filter((f) => f.endsWith(".json") && f !== "bench.json")
      .map((f) => `results/${f}`),
    "results/sim/experiment.json",
    "results/sim-baselines/experiment.json"
  ]
  it.each(configs)("%s decodes and passes the experiment checks", (file) => {
    const raw = JSON.parse(readFileSync(`${root}${file}`, "utf8"))
    const decoded = decodeStrict(ExperimentConfig, raw)
    expect("problems" in decoded ? decoded.problems : []).toEqual([])
    if ("value" in decoded) Effect.runSync(validateExperiment(decoded.value, () => file))
  })
})

const none = {
  config: Option.none(),
  seed: Option.none(),
  task: Option.none(),
  mas: Option.none(),
  concurrency: Option.none()
}

describe("run config sources", () => {
  const failure = (flags: Parameters<typeof resolveRunConfig>[0]) =>
    Effect.runPromise(
      Effect.flip(resolveRunConfig(flags)).pipe(
        Effect.map((e) => e as InputError),
        Effect.provide(NodeServices.layer)
      )
    )

  it("a bad flag value is reported as that flag", async () => {
    const e = await failure({ ...none, n: Option.some(-1) })
    expect(`${e.source}: ${e.message}`).toBe("--n: expected an integer >= 1, got -1")
    const s = await failure({ ...none, seed: Option.some(-2) })
    expect(`${s.source}: ${s.message}`).toBe("--seed: expected an integer >= 0, got -2")
    const c = await failure({ ...none, concurrency: Option.some(0) })
    expect(c.source).toBe("--concurrency")
  })

  it("an unknown --set path is reported as that --set, with the closest field", async () => {
    const e = await failure({ ...none, set: Option.some({ "providers.agent.temprature": "1" }) })
    expect(`${e.source}: ${e.message}`).toBe(
      "--set providers.agent.temprature=1: providers.agent.temprature: unknown field; did you mean `temperature`?"
    )
    const t = await failure({ ...none, set: Option.some({ sead: "3" }) })
    expect(t.message).toContain("did you mean `seed`?")
  })

  it("a --set that replaces a provider by a number is an error, not a crash", async () => {
    const e = await failure({ ...none, set: Option.some({ "providers.agent": "5" }) })
    expect(e.source).toBe("--set providers.agent=5")
    expect(e.message).toContain("providers.agent: expected object")
  })

  it("an unknown task or topology from a flag names the flag", async () => {
    const e = await failure({ ...none, task: Option.some("math5000") })
    expect(`${e.source}: ${e.message}`).toBe("--task: unknown task 'math5000'; did you mean `math500`?")
    const m = await failure({ ...none, mas: Option.some("sequental") })
    expect(m.source).toBe("--mas")
    expect(m.message).toContain("did you mean `sequential`?")
  })
})
