import { assert, describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import { readFileSync, readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"
import {
  compileTemplate,
  compressionMessages,
  compressRequest,
  fillTemplate,
  formatContext,
  type JudgeKind,
  judgeRequest,
  MASPO_TEMPLATES,
  matchTemplate,
  PAPER_TEMPLATES,
  pairwiseMessages,
  parseProposalWith,
  parseTemplateText,
  parseVerdictWith,
  proposeRequest,
  readRequest,
  refineMessages,
  SHIPPED_TEMPLATE_SETS,
  TemplateFile,
  type TemplateSet,
  templateOf,
  templateProblems,
  templateSetHash,
  withOverrides
} from "@maspo/core"
import { generateArithItems, simReply, simSequential } from "@maspo/core/sim"
import { Schema } from "effect"

// Texts without any template's own delimiters (tags, fences, headings, blank lines), trimmed, so
// what a builder puts in is exactly what a reader gets back.
const text = fc
  .string({ minLength: 1, maxLength: 60 })
  .map((s) => s.replace(/[<>`#{}()\n]/g, "x").trim())
  .filter((s) => s.length > 0 && !/^(A|B)$/.test(s))
const level = fc.constantFrom("local" as const, "lookahead" as const, "global" as const)

const JUDGE_KINDS: ReadonlyArray<JudgeKind> = [
  "judge-generic",
  "judge-intermediate",
  "judge-final",
  "judge-answer"
]
const sets = Object.values(SHIPPED_TEMPLATE_SETS)

const agentCall = (c: string) => ({
  messages: [{ role: "user" as const, content: c }],
  model: "maspo-sim-1",
  temperature: 0,
  maxTokens: 100,
  seed: 0,
  sampleIndex: 0
})

const content = (r: { messages: ReadonlyArray<{ content: string }> }) => r.messages[0]!.content

describe("template files", () => {
  const root = fileURLToPath(new URL("../templates/", import.meta.url))
  it("every shipped file decodes strictly and compiles, and each set has the kinds it is used with", () => {
    for (const dir of readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      for (const f of readdirSync(`${root}${dir.name}`).filter(
        (f) => f.endsWith(".json") && f !== "set.json"
      )) {
        const raw = JSON.parse(readFileSync(`${root}${dir.name}/${f}`, "utf8"))
        const r = templateProblems(raw)
        assert.ok("template" in r, `${dir.name}/${f}: ${JSON.stringify("problems" in r ? r.problems : [])}`)
        expect(f).toBe(`${raw.kind}.json`)
        expect(raw.set).toBe(dir.name)
      }
    }
    expect(Object.keys(MASPO_TEMPLATES.templates).sort()).toEqual(["compress", "judge-generic", "propose"])
    expect(Object.keys(PAPER_TEMPLATES.templates).sort()).toEqual([
      "compress",
      "judge-answer",
      "judge-final",
      "judge-intermediate",
      "propose"
    ])
  })

  it("a template with an excess key, an undeclared slot, an unused slot or an open section is refused", () => {
    const base = {
      kind: "compress",
      set: "mine",
      version: 1,
      slots: ["maxWords", "output"],
      text: "{{maxWords}} {{output}}"
    }
    assert.ok("template" in templateProblems(base))
    expect(
      Schema.decodeUnknownExit(TemplateFile)({ ...base, colour: 1 }, { onExcessProperty: "error" })._tag
    ).toBe("Failure")
    const undeclared = compileTemplate({ ...base, text: "{{maxWords}} {{output}} {{extra}}" } as TemplateFile)
    assert.deepStrictEqual("problems" in undeclared && undeclared.problems, [
      { path: ["text"], message: "uses {{extra}}, which is not declared" }
    ])
    const unused = compileTemplate({ ...base, text: "{{output}}" } as TemplateFile)
    assert.deepStrictEqual("problems" in unused && unused.problems, [
      { path: ["text"], message: "declares maxWords but never uses it" }
    ])
    const open = compileTemplate({ ...base, text: "{{#output}}{{output}} {{maxWords}}" } as TemplateFile)
    expect("problems" in open && open.problems[0]!.message).toBe("section {{#output}} is never closed")
    expect(() => parseTemplateText("{{/x}}")).toThrow(/closes no open/)
  })

  it("the set hash changes when one kind is overridden", () => {
    const mine = templateProblems({
      kind: "compress",
      set: "mine",
      version: 1,
      slots: ["maxWords", "output"],
      text: "Shorten to {{maxWords}} words:\n{{output}}"
    })
    assert.ok("template" in mine)
    expect(templateSetHash(withOverrides(PAPER_TEMPLATES, [mine.template]))).not.toBe(
      templateSetHash(PAPER_TEMPLATES)
    )
    expect(templateSetHash(MASPO_TEMPLATES)).not.toBe(templateSetHash(PAPER_TEMPLATES))
  })
})

describe("maspo set = today's wording", () => {
  // The requests maspo built before templates existed, verbatim: the maspo set must reproduce their
  // bytes so committed caches keep serving.
  const legacyCompress = (output: string, maxWords: number) =>
    `Compress the following agent output into a summary of at most ${maxWords} words. ` +
    `Keep the final answer and any intermediate results that are stated explicitly. ` +
    `Reply with the summary only.\n\n<output>\n${output}\n</output>`
  const criterion = {
    local: "Judge which response is the better output of this agent for the task.",
    lookahead: "Both responses come from the next agent in the pipeline. Judge which one is better.",
    global: "Both responses are final answers of the whole system. Judge which final answer is better."
  }
  const legacyPairwise = (q: string, l: keyof typeof criterion, a: string, b: string, role?: string) =>
    `You are an impartial judge comparing two responses to the same task.\n` +
    (role ? `Agent role: ${role}\n` : "") +
    `Level: ${l}\n\n<task>\n${q}\n</task>\n\n` +
    `<response_a>\n${a}\n</response_a>\n\n<response_b>\n${b}\n</response_b>\n\n` +
    `${criterion[l]} Consider correctness first, then usefulness. ` +
    `Reply with a single letter: A if response A is better, B if response B is better.`

  it("property: compression and judge requests are byte-identical to the pre-template builders", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 500 }), (out, n) => {
        expect(compressionMessages(out, n)[0]!.content).toBe(legacyCompress(out, n))
        expect(compressRequest(MASPO_TEMPLATES, out, n)).toEqual({
          messages: [{ role: "user", content: legacyCompress(out, n) }]
        })
      })
    )
    fc.assert(
      fc.property(
        fc.string(),
        level,
        fc.string(),
        fc.string(),
        fc.option(fc.string(), { nil: undefined }),
        (q, l, a, b, role) => {
          const input = { question: q, level: l, a, b, ...(role !== undefined ? { agentRole: role } : {}) }
          expect(pairwiseMessages(input)[0]!.content).toBe(legacyPairwise(q, l, a, b, role || undefined))
        }
      )
    )
  })

  it("the proposal request is byte-identical too", () => {
    const traces = [
      { question: "q1", context: "", output: "o1" },
      { question: "q2", context: "[a] c", output: "o2", feedback: "fb" }
    ]
    expect(refineMessages({ agentRole: "r", prompt: "P {question} {context}", traces })[0]!.content).toBe(
      "You are optimizing the prompt of one agent in a multi-agent system.\nAgent role: r\n\n" +
        "<current_prompt>\nP {question} {context}\n</current_prompt>\n\n" +
        "Here are execution traces of this agent: the question, the context it received from upstream agents, and its output.\n\n" +
        '<trace index="1">\n<question>\nq1\n</question>\n<context>\n\n</context>\n<output>\no1\n</output>\n</trace>\n' +
        '<trace index="2">\n<question>\nq2\n</question>\n<context>\n[a] c\n</context>\n<output>\no2\n</output>\n<feedback>\nfb\n</feedback>\n</trace>\n\n' +
        "Analyse the weaknesses these traces show, then improve the prompt. Reply with <analysis>your analysis</analysis>, " +
        "<modification>one line describing the change</modification> and <new_prompt>the complete new prompt</new_prompt>. " +
        "The new prompt must keep the placeholders {question} and {context} exactly once each."
    )
  })
})

describe("builders and readers round-trip, for every set", () => {
  it("property: what is read back from a built request is what was put in", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...sets),
        text,
        fc.integer({ min: 1, max: 300 }),
        text,
        text,
        level,
        fc.array(fc.record({ question: text, context: fc.oneof(fc.constant(""), text), output: text }), {
          minLength: 1,
          maxLength: 5
        }),
        (set, out, n, a, b, l, traces) => {
          const c = readRequest([set], content(compressRequest(set, out, n)))
          assert.deepStrictEqual(c && c.kind === "compress" && { output: c.output, maxWords: c.maxWords }, {
            output: out,
            maxWords: n
          })
          for (const kind of JUDGE_KINDS.filter((k) => set.templates[k] !== undefined)) {
            const built = judgeRequest(set, kind, {
              question: out,
              level: l,
              a,
              b,
              agentRole: "role",
              requirement: "req"
            })
            const r = readRequest([set], content(built))
            assert.ok(r && "question" in r && r.kind === kind, kind)
            assert.deepStrictEqual({ question: r.question, a: r.a, b: r.b }, { question: out, a, b })
            if (kind === "judge-generic") assert.strictEqual(r.level, l)
          }
          const p = readRequest([set], content(proposeRequest(set, { agentRole: a, prompt: b, traces })))
          assert.ok(p && p.kind === "propose")
          assert.deepStrictEqual(
            { role: p.agentRole, prompt: p.prompt, traces: p.traces },
            { role: a, prompt: b, traces }
          )
        }
      )
    )
  })

  it("an agent message matches no template", () => {
    for (const set of sets) expect(readRequest([set], "Solve: 2 + 3\n{question}")).toBeUndefined()
  })
})

describe("paper reply rules", () => {
  const judge = templateOf(PAPER_TEMPLATES, "judge-answer").file.reply
  it("verdict from <choose>, else the last letter, and a reply with no letter is a candidate win", () => {
    expect(parseVerdictWith(judge, "<analyse>B looks wrong</analyse><choose>A</choose>")).toBe("A")
    expect(parseVerdictWith(judge, "<choose> B </choose> finally A")).toBe("B")
    // The released rule: an "A" anywhere in the tag means A.
    expect(parseVerdictWith(judge, "<choose>A/B</choose>")).toBe("A")
    expect(parseVerdictWith(judge, "I prefer B over A")).toBe("A")
    expect(parseVerdictWith(judge, "A is better.")).toBe("B")
    expect(parseVerdictWith(judge, "b")).toBe("B")
    expect(parseVerdictWith(judge, "")).toBe("candidate")
    expect(parseVerdictWith(judge, "42 !")).toBe("candidate")
  })

  it("property: last-letter rule on tagless replies", () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }).filter((s) => !s.includes("<choose>")),
        (reply) => {
          const letters = reply.trim().toUpperCase().match(/\p{L}/gu)
          const expected = letters === null ? "candidate" : letters.at(-1) === "A" ? "A" : "B"
          expect(parseVerdictWith(judge, reply)).toBe(expected)
        }
      )
    )
  })

  it("proposal: the first <prompt>, an unclosed one runs to the end, none keeps the old prompt", () => {
    const format = templateOf(PAPER_TEMPLATES, "propose").file.reply
    expect(parseProposalWith(format, "<prompt>one</prompt><prompt>two</prompt>", "old")?.newPrompt).toBe(
      "one"
    )
    expect(parseProposalWith(format, "<analyse>x</analyse><prompt>\nnew {question}", "old")).toEqual({
      analysis: "x",
      modification: "",
      newPrompt: "new {question}",
      keptOldPrompt: false
    })
    expect(parseProposalWith(format, "no tags at all", "old")).toEqual({
      analysis: "",
      modification: "",
      newPrompt: "old",
      keptOldPrompt: true
    })
    // maspo's rule for the same reply: no candidate.
    expect(
      parseProposalWith(templateOf(MASPO_TEMPLATES, "propose").file.reply, "no tags at all", "old")
    ).toBeUndefined()
  })
})

describe("the simulator answers every request kind of every set", () => {
  const items = generateArithItems(3, 5, "pool")
  const userSet: TemplateSet = (() => {
    const t = (raw: unknown) => {
      const r = templateProblems(raw)
      if (!("template" in r)) throw new Error(JSON.stringify(r.problems))
      return r.template
    }
    return {
      name: "mine",
      templates: {
        compress: t({
          kind: "compress",
          set: "mine",
          version: 1,
          slots: ["maxWords", "output"],
          text: "Shorten this to {{maxWords}} words or fewer.\n=====\n{{output}}\n====="
        }),
        "judge-generic": t({
          kind: "judge-generic",
          set: "mine",
          version: 1,
          slots: ["level", "question", "a", "b"],
          text: "Which is better ({{level}})?\nQ: {{question}}\nFIRST: {{a}}\nSECOND: {{b}}\nAnswer [[A]] or [[B]].",
          reply: { verdictTag: "pick", verdictRule: "tag-else-last-letter" }
        }),
        propose: t({
          kind: "propose",
          set: "mine",
          version: 1,
          slots: ["agentRole", "prompt"],
          text: "Improve this agent's prompt. Role: {{agentRole}}\nPROMPT>>{{prompt}}<<PROMPT\n{{@traces}}\nReply in <better>...</better>.",
          lists: {
            traces: {
              slots: ["question", "output"],
              separator: "\n",
              item: "* Q={{question}} OUT={{output}} ;"
            }
          },
          reply: { promptTag: "better" }
        })
      }
    }
  })()
  const seed = 3
  const request = (c: string) => ({
    messages: [{ role: "user" as const, content: c }],
    model: "maspo-sim-1",
    temperature: 0,
    maxTokens: 100,
    seed,
    sampleIndex: 0
  })

  for (const set of [...sets, userSet])
    it(`${set.name}: compression, every judge request and the proposal get replies their parsers read`, () => {
      const item = items[0]!
      const output = simReply(request(`Solve step by step.\n${item.question}`))
      const summary = simReply(request(content(compressRequest(set, output, 30))), undefined, [set])
      expect(summary).toMatch(/answer -?\d+/i)
      for (const kind of JUDGE_KINDS.filter((k) => set.templates[k] !== undefined)) {
        const built = judgeRequest(set, kind, {
          question: item.question,
          level: "local",
          a: output,
          b: "The final value is 0",
          requirement: "Put the final answer in <answer></answer> tags."
        })
        const reply = simReply(request(content(built)), undefined, [set])
        const v = parseVerdictWith(templateOf(set, kind).file.reply, reply)
        expect(["A", "B"]).toContain(v)
      }
      const prompt = "Solve it.\n{question}\n{context}"
      const built = proposeRequest(set, {
        agentRole: "solver",
        prompt,
        traces: items.map((i) => ({ question: i.question, context: "", output: "The final value is 7" }))
      })
      const reply = simReply(request(content(built)), undefined, [set])
      const parsed = parseProposalWith(templateOf(set, "propose").file.reply, reply, prompt)
      assert.ok(parsed && !parsed.keptOldPrompt, reply)
      expect(parsed.newPrompt).toContain("{question}")
      expect(parsed.newPrompt).not.toBe(prompt)
    })

  it("a user's set is understood only when the simulator is given it", () => {
    const built = compressRequest(userSet, "The final value is 7", 30)
    expect(simReply(request(content(built)))).toMatch(/could not find a problem/)
    expect(matchTemplate(templateOf(userSet, "compress"), content(built))).toEqual({
      maxWords: "30",
      output: "The final value is 7"
    })
  })
})

describe("the simulator's agents read labelled and unlabelled context alike", () => {
  it("property: a reviewer given its predecessor's summary with or without the agent label answers the same", () => {
    const node = simSequential.nodes.find((n) => n.id === "reviewer")
    const reviewer = node && "prompt" in node ? node.prompt : ""
    const items = generateArithItems(9, 20, "pool")
    fc.assert(
      fc.property(fc.constantFrom(...items), fc.integer({ min: 0, max: 1000 }), (item, seed) => {
        const solved = simReply({ ...agentCall(`Solve it step by step.\n${item.question}`), seed })
        const summary = simReply({ ...agentCall(compressionMessages(solved, 30)[0]!.content), seed })
        const fill = (context: string) => fillTemplate(reviewer, { question: item.question, context })
        const labelled = simReply({
          ...agentCall(fill(formatContext([{ agentId: "solver", text: summary }]))),
          seed
        })
        const bare = simReply({ ...agentCall(fill(summary)), seed })
        expect(bare).toBe(labelled)
        expect(labelled).toMatch(/^Reviewing the proposed answer/)
      }),
      { numRuns: 30 }
    )
  })
})
