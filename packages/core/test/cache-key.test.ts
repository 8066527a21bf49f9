import { assert, describe, it } from "@effect/vitest"
import { canonicalJson } from "@maspo/core"
import {
  cacheKey,
  type CacheKeyInput,
  cacheKeyInput,
  canonicalRequest,
  type ExtraBody
} from "@maspo/core/cache"
import fc from "fast-check"

const ROLES = ["system", "user", "assistant"] as const

const message = fc.record({ role: fc.constantFrom(...ROLES), content: fc.string({ maxLength: 40 }) })

const jsonLeaf = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null))
const jsonValue: fc.Arbitrary<ExtraBody[string]> = fc.letrec<{ value: ExtraBody[string] }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    jsonLeaf,
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie("value"), { maxKeys: 3 })
  )
})).value
const extraBody = fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), jsonValue, { maxKeys: 4 })

const keyInput: fc.Arbitrary<CacheKeyInput> = fc.record({
  v: fc.constant(1 as const),
  provider: fc.constantFrom("openai", "sim", "scripted"),
  model: fc.string({ minLength: 1, maxLength: 12 }),
  messages: fc.array(message, { minLength: 1, maxLength: 5 }),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  maxTokens: fc.integer({ min: 1, max: 100_000 }),
  seed: fc.integer({ min: -1_000_000, max: 1_000_000 }),
  sampleIndex: fc.nat({ max: 1000 }),
  extraBody
})

/** Every single-field change that must move the key (none is a no-op by construction). */
const mutations = (input: CacheKeyInput): ReadonlyArray<readonly [string, CacheKeyInput]> => {
  const out: Array<readonly [string, CacheKeyInput]> = [
    ["provider", { ...input, provider: `${input.provider}x` }],
    ["model", { ...input, model: `${input.model}x` }],
    ["temperature", { ...input, temperature: input.temperature + 0.25 }],
    ["maxTokens", { ...input, maxTokens: input.maxTokens + 1 }],
    ["seed", { ...input, seed: input.seed + 1 }],
    ["sampleIndex", { ...input, sampleIndex: input.sampleIndex + 1 }],
    ["extra message", { ...input, messages: [...input.messages, { role: "user", content: "" }] }],
    ["dropped message", { ...input, messages: input.messages.slice(1) }],
    ["extraBody new field", { ...input, extraBody: { ...input.extraBody, __added: 1 } }],
    ["extraBody nested", { ...input, extraBody: { ...input.extraBody, __added: { a: [1, { b: "c" }] } } }]
  ]
  input.messages.forEach((m, i) => {
    const withMessage = (replacement: CacheKeyInput["messages"][number]) =>
      input.messages.map((x, j) => (j === i ? replacement : x))
    out.push([
      `content of message ${i}`,
      { ...input, messages: withMessage({ ...m, content: `${m.content}!` }) }
    ])
    const role = ROLES[(ROLES.indexOf(m.role) + 1) % ROLES.length]!
    out.push([`role of message ${i}`, { ...input, messages: withMessage({ ...m, role }) }])
  })
  // Order of messages: swap the first with the first message that differs from it.
  const first = input.messages[0]!
  const j = input.messages.findIndex((m) => m.role !== first.role || m.content !== first.content)
  if (j > 0) {
    const swapped = [...input.messages]
    swapped[0] = input.messages[j]!
    swapped[j] = first
    out.push(["message order", { ...input, messages: swapped }])
  }
  for (const k of Object.keys(input.extraBody)) {
    const v = input.extraBody[k]
    out.push([
      `extraBody.${k} value`,
      { ...input, extraBody: { ...input.extraBody, [k]: [v ?? null, "changed"] } }
    ])
    const { [k]: _dropped, ...rest } = input.extraBody
    out.push([`extraBody.${k} removed`, { ...input, extraBody: rest }])
  }
  return out
}

/** The same value, rebuilt with object keys inserted in a shuffled order at every depth. */
const shuffled = (value: unknown, rand: () => number): unknown => {
  if (Array.isArray(value)) return value.map((v) => shuffled(v, rand))
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value)
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[keys[i], keys[j]] = [keys[j]!, keys[i]!]
    }
    const out: Record<string, unknown> = {}
    for (const k of keys) out[k] = shuffled((value as Record<string, unknown>)[k], rand)
    return out
  }
  return value
}

const lcg = (seed: number) => {
  let s = seed >>> 0
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

describe("cacheKey", () => {
  // The pinned digest was checked independently: Python sha256 of json.dumps(sort_keys=True,
  // separators=(",", ":")) of the same object.
  it("is a sha256 hex digest, pinned for a fixed request (the key layout is a file format)", () => {
    const input = cacheKeyInput("openai", {
      messages: [
        { role: "system", content: "You are terse." },
        { role: "user", content: "2+2?" }
      ],
      model: "gpt-4o-mini",
      temperature: 0,
      maxTokens: 16,
      seed: 7,
      sampleIndex: 0
    })
    assert.deepStrictEqual(input.extraBody, {})
    assert.match(cacheKey(input), /^[0-9a-f]{64}$/)
    assert.strictEqual(cacheKey(input), "e6eb735b79712b3015868332e0d25345634af9f3d1dfccb43451f522a4fe4691")
  })

  it("property: the same request gives the same key", () => {
    fc.assert(
      fc.property(keyInput, (input) => {
        const copy = JSON.parse(JSON.stringify(input)) as CacheKeyInput
        assert.strictEqual(cacheKey(copy), cacheKey(input))
      })
    )
  })

  it("property: changing any one field changes the key", () => {
    fc.assert(
      fc.property(keyInput, (input) => {
        const base = cacheKey(input)
        for (const [what, changed] of mutations(input)) {
          assert.notStrictEqual(cacheKey(changed), base, `changing ${what} kept the key`)
        }
      })
    )
  })

  it("property: the key does not depend on object key order, at any depth", () => {
    fc.assert(
      fc.property(keyInput, fc.integer(), (input, seed) => {
        const rand = lcg(seed)
        assert.strictEqual(cacheKey(shuffled(input, rand) as CacheKeyInput), cacheKey(input))
      })
    )
  })

  it("property: the field-by-field serializer writes exactly canonicalJson's bytes", () => {
    // Any UTF-16 text (lone surrogates included) and any finite or non-finite number.
    const text = fc.string({ unit: "binary", maxLength: 30 })
    const anyInput = fc.record({
      v: fc.constant(1 as const),
      provider: text,
      model: text,
      messages: fc.array(fc.record({ role: fc.constantFrom(...ROLES), content: text }), { maxLength: 5 }),
      temperature: fc.double(),
      maxTokens: fc.oneof(fc.integer(), fc.double()),
      seed: fc.oneof(fc.integer(), fc.double()),
      sampleIndex: fc.oneof(fc.nat(), fc.double()),
      extraBody
    })
    fc.assert(
      fc.property(fc.oneof(keyInput, anyInput), (input) => {
        assert.strictEqual(canonicalRequest(input), canonicalJson(input))
      }),
      { numRuns: 500 }
    )
  })

  it("property: cacheKeyInput keeps only the key fields of a request", () => {
    fc.assert(
      fc.property(keyInput, (input) => {
        const request = {
          messages: input.messages,
          model: input.model,
          temperature: input.temperature,
          maxTokens: input.maxTokens,
          seed: input.seed,
          sampleIndex: input.sampleIndex,
          // Not part of LMRequest's type, but a caller could pass a wider object.
          baseUrl: "https://elsewhere.example/v1",
          apiKey: "sk-should-not-matter"
        }
        assert.deepStrictEqual(cacheKeyInput(input.provider, request, input.extraBody), input)
        assert.strictEqual(cacheKey(cacheKeyInput(input.provider, request, input.extraBody)), cacheKey(input))
      })
    )
  })
})
