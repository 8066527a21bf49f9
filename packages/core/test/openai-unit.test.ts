import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Fiber, Redacted } from "effect"
import { TestClock } from "effect/testing"
import fc from "fast-check"
import OpenAI from "openai"
import type { LMRequest } from "@maspo/core"
import {
  apiKeyConfig,
  bodyToRequest,
  chatRequestBody,
  classifyFailure,
  decideFault,
  makeWindowLimiter,
  parseCompletion,
  reasonForStatus,
  requestSeed,
  retryAfterMs,
  retryDelayMs,
  scrubSecret,
  windowWaitMs
} from "@maspo/core/openai"

const headers = (h: Record<string, string>) => new Headers(h)

const message = fc.record({
  role: fc.constantFrom("system" as const, "user" as const, "assistant" as const),
  content: fc.string({ maxLength: 40 })
})
const lmRequest: fc.Arbitrary<LMRequest> = fc.record({
  messages: fc.array(message, { minLength: 1, maxLength: 4 }),
  model: fc.string({ minLength: 1, maxLength: 12 }),
  temperature: fc.double({ min: 0, max: 2, noNaN: true }),
  maxTokens: fc.integer({ min: 1, max: 100_000 }),
  seed: fc.integer(),
  sampleIndex: fc.nat({ max: 1000 })
})

describe("openai retry rules", () => {
  it("property: statuses map to reasons; only non-408/429 4xx are client errors", () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), (status) => {
        const reason = reasonForStatus(status)
        if (status === 429) assert.strictEqual(reason, "RateLimited")
        else if (status === 408) assert.strictEqual(reason, "Timeout")
        else if (status >= 500) assert.strictEqual(reason, "ServerError")
        else assert.strictEqual(reason, "ClientError")
      })
    )
  })

  it("property: Retry-After in ms, seconds and HTTP dates", () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000 }), (ms) => {
        assert.strictEqual(
          retryAfterMs(headers({ "retry-after-ms": String(ms), "retry-after": "999" }), 0),
          ms
        )
      })
    )
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), fc.integer({ min: 0, max: 99 }), (s, frac) => {
        const value = `${s}.${String(frac).padStart(2, "0")}`
        const got = retryAfterMs(headers({ "retry-after": value }), 0)
        assert.isDefined(got)
        assert.approximately(got!, Number.parseFloat(value) * 1000, 1e-6)
      })
    )
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000_000, max: 4_000_000 }),
        fc.integer({ min: -100, max: 100_000 }),
        (nowS, deltaS) => {
          const now = nowS * 1000
          const date = new Date(now + deltaS * 1000).toUTCString()
          assert.strictEqual(retryAfterMs(headers({ "retry-after": date }), now), Math.max(0, deltaS * 1000))
        }
      )
    )
    assert.isUndefined(retryAfterMs(undefined, 0))
    assert.isUndefined(retryAfterMs(headers({}), 0))
    assert.isUndefined(retryAfterMs(headers({ "retry-after": "soon" }), 0))
    assert.isUndefined(retryAfterMs(headers({ "retry-after": "-3" }), 0))
    // A bad retry-after-ms falls back to retry-after.
    assert.strictEqual(retryAfterMs(headers({ "retry-after-ms": "x", "retry-after": "2" }), 0), 2000)
  })

  it("property: backoff is capped, exponential, jittered in the upper half; Retry-After wins", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.nat({ max: 200 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (baseDelayMs, maxDelayMs, attempt, jitter) => {
          const policy = { baseDelayMs, maxDelayMs }
          const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt)
          const d = retryDelayMs(policy, attempt, jitter)
          assert.isAtLeast(d, Math.floor(exp / 2))
          assert.isAtMost(d, exp)
          assert.isAtMost(d, maxDelayMs)
          assert.strictEqual(retryDelayMs(policy, attempt, jitter), d)
        }
      )
    )
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), fc.nat({ max: 100_000 }), (after, cap) => {
        assert.strictEqual(
          retryDelayMs({ baseDelayMs: 5, maxDelayMs: cap }, 3, 0.5, after),
          Math.min(after, cap)
        )
      })
    )
    // Growth: the floor of attempt n+1 is the ceiling of attempt n while uncapped.
    assert.strictEqual(retryDelayMs({ baseDelayMs: 100, maxDelayMs: 1e9 }, 0, 0), 50)
    assert.strictEqual(retryDelayMs({ baseDelayMs: 100, maxDelayMs: 1e9 }, 3, 0), 400)
  })

  it("property: a secret never survives scrubbing", () => {
    const secret = fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/)
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 30 }), { minLength: 1, maxLength: 5 }),
        secret,
        (parts, key) => {
          const text = parts.join(key)
          const out = scrubSecret(text, key)
          assert.notInclude(out, key)
          if (!text.includes(key) && !/bearer|sk-/i.test(text)) assert.strictEqual(out, text)
        }
      )
    )
    assert.strictEqual(scrubSecret("Authorization: Bearer abc.def", ""), "Authorization: Bearer <redacted>")
    assert.strictEqual(scrubSecret("key sk-proj-12ab****cd34", ""), "key sk-<redacted>")
  })
})

describe("openai failure classification", () => {
  const secret = "sk-test-very-secret-key-123"
  it("maps the openai client's errors to reasons, with Retry-After and no secret", () => {
    const rate = classifyFailure(
      new OpenAI.RateLimitError(
        429,
        { message: `slow down ${secret}` },
        undefined,
        headers({ "retry-after-ms": "75" })
      ),
      secret,
      0
    )
    assert.strictEqual(rate.reason, "RateLimited")
    assert.strictEqual(rate.status, 429)
    assert.strictEqual(rate.retryAfterMs, 75)
    assert.notInclude(rate.message, secret)
    const auth = classifyFailure(
      new OpenAI.AuthenticationError(
        401,
        { message: `Incorrect API key provided: ${secret}` },
        undefined,
        headers({})
      ),
      secret,
      0
    )
    assert.strictEqual(auth.reason, "ClientError")
    assert.notInclude(JSON.stringify(auth), secret)
    assert.strictEqual(
      classifyFailure(new OpenAI.InternalServerError(503, undefined, undefined, headers({})), secret, 0)
        .reason,
      "ServerError"
    )
    assert.strictEqual(classifyFailure(new OpenAI.APIConnectionTimeoutError(), secret, 0).reason, "Timeout")
    assert.strictEqual(
      classifyFailure(new OpenAI.APIConnectionError({ message: "Connection error." }), secret, 0).reason,
      "Connection"
    )
    assert.strictEqual(
      classifyFailure(new SyntaxError("Unexpected end of JSON"), secret, 0).reason,
      "InvalidResponse"
    )
  })
})

describe("openai completions", () => {
  it("property: a well-formed completion parses to its content and usage", () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), fc.nat(), fc.boolean(), (text, p, c, withUsage) => {
        const body = {
          id: "x",
          choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
          ...(withUsage ? { usage: { prompt_tokens: p, completion_tokens: c, total_tokens: p + c } } : {})
        }
        assert.deepStrictEqual(parseCompletion(body), {
          _tag: "Completion",
          text,
          usage: withUsage ? { promptTokens: p, completionTokens: c } : undefined
        })
      })
    )
  })

  it("property: any other JSON value is Invalid or a string content, never a throw", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed = parseCompletion(value)
        if (parsed._tag === "Completion") {
          const content = (value as { choices: Array<{ message: { content: unknown } }> }).choices[0]!.message
            .content
          assert.strictEqual(parsed.text, content)
        } else assert.isString(parsed.reason)
      })
    )
    assert.strictEqual(parseCompletion({ choices: [] })._tag, "Invalid")
    assert.strictEqual(parseCompletion({ choices: [{ message: { content: null } }] })._tag, "Invalid")
    assert.strictEqual(parseCompletion('{"choices": [')._tag, "Invalid")
  })
})

describe("openai request bodies", () => {
  it("property: seeds are 31-bit, reproducible, and differ across samples", () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat({ max: 10_000 }), fc.nat({ max: 10_000 }), (seed, i, j) => {
        const s = requestSeed(seed, i)
        assert.isTrue(Number.isInteger(s) && s >= 0 && s < 2 ** 31)
        assert.strictEqual(requestSeed(seed, i), s)
        if (i !== j) assert.notStrictEqual(requestSeed(seed, j), s)
      })
    )
  })

  it("property: a body round-trips through the server's decoder; extras are merged", () => {
    fc.assert(
      fc.property(lmRequest, (request) => {
        const body = JSON.parse(
          JSON.stringify(
            chatRequestBody(request, { top_k: 20, chat_template_kwargs: { enable_thinking: false } })
          )
        )
        assert.strictEqual(body.top_k, 20)
        assert.deepStrictEqual(body.chat_template_kwargs, { enable_thinking: false })
        assert.deepStrictEqual(bodyToRequest(body), {
          ...request,
          messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
          seed: requestSeed(request.seed, request.sampleIndex),
          sampleIndex: 0
        })
      })
    )
  })

  it("rejects bad bodies, naming the field", () => {
    const ok = { model: "m", messages: [{ role: "user", content: "hi" }] }
    assert.throws(() => bodyToRequest([]), /JSON object/)
    assert.throws(() => bodyToRequest({ ...ok, stream: true }), /stream/)
    assert.throws(() => bodyToRequest({ ...ok, messages: [] }), /messages/)
    assert.throws(
      () => bodyToRequest({ ...ok, messages: [{ role: "tool", content: "x" }] }),
      /messages\[0\]\.role/
    )
    assert.throws(() => bodyToRequest({ ...ok, temperature: 5 }), /temperature/)
    assert.throws(() => bodyToRequest({ ...ok, model: 3 }), /model/)
    assert.strictEqual(bodyToRequest(ok).temperature, 1)
  })
})

describe("openai fault decisions", () => {
  it("property: deterministic, bounded per request, and proportional to the rates", () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.nat({ max: 10 }),
        fc.nat({ max: 5 }),
        fc.integer(),
        (key, attempt, max, seed) => {
          const all = { rate429: 0.25, rate500: 0.25, rateStall: 0.25, rateMalformed: 0.25, faultSeed: seed }
          const d = decideFault({ ...all, maxFaultsPerRequest: max }, key, attempt)
          assert.strictEqual(decideFault({ ...all, maxFaultsPerRequest: max }, key, attempt), d)
          if (attempt >= max) assert.isUndefined(d)
          else assert.isDefined(d)
          assert.isUndefined(decideFault({ faultSeed: seed }, key, attempt))
        }
      )
    )
    const n = 4000
    let faults = 0
    for (let i = 0; i < n; i++) if (decideFault({ rate500: 0.2 }, `k${i}`, 0) === "rate500") faults++
    assert.isAbove(faults / n, 0.17)
    assert.isBelow(faults / n, 0.23)
  })
})

describe("openai rate limiting", () => {
  it("property: after the computed wait the cost fits; one ms earlier it does not", () => {
    const entries = fc
      .array(fc.record({ dt: fc.nat({ max: 30 }), cost: fc.integer({ min: 1, max: 10 }) }), { maxLength: 12 })
      .map((xs) => {
        let at = 0
        return xs.map(({ dt, cost }) => ({ at: (at += dt), cost }))
      })
    fc.assert(
      fc.property(
        entries,
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 15 }),
        (es, limit, cost) => {
          const windowMs = 100
          const now = (es.at(-1)?.at ?? 0) + 1
          const fits = (t: number) => {
            const live = es.filter((e) => e.at > t - windowMs)
            return live.length === 0 || live.reduce((s, e) => s + e.cost, 0) + cost <= limit
          }
          const wait = windowWaitMs(es, now, windowMs, limit, cost)
          assert.isTrue(fits(now + wait))
          if (wait > 0) assert.isFalse(fits(now + wait - 1))
        }
      )
    )
  })

  it.effect("a requests-per-minute limiter holds the third request until the window moves", () =>
    Effect.gen(function* () {
      const limiter = yield* makeWindowLimiter(2, 60_000)
      yield* limiter.take(1)
      yield* limiter.take(1)
      const third = yield* Effect.forkChild(limiter.take(1))
      yield* TestClock.adjust(59_999)
      assert.isUndefined(third.pollUnsafe())
      yield* TestClock.adjust(1)
      yield* Fiber.join(third)
    })
  )
})

describe("openai api key", () => {
  const withEnv = (env: Record<string, string>) =>
    Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))

  it.effect("reads a redacted key, names a missing variable, and needs none for local servers", () =>
    Effect.gen(function* () {
      const key = yield* apiKeyConfig("MY_KEY").pipe(withEnv({ MY_KEY: "sk-secret-value" }))
      assert.strictEqual(Redacted.value(key), "sk-secret-value")
      assert.notInclude(String(key), "sk-secret-value")
      const missing = yield* apiKeyConfig("MY_KEY").pipe(withEnv({ OTHER: "sk-other" }), Effect.flip)
      assert.strictEqual(missing._tag, "ApiKeyMissing")
      assert.strictEqual(missing.envName, "MY_KEY")
      assert.include(missing.message, "MY_KEY")
      assert.notInclude(missing.message, "sk-other")
      const empty = yield* apiKeyConfig("MY_KEY").pipe(withEnv({ MY_KEY: "" }), Effect.flip)
      assert.strictEqual(empty._tag, "ApiKeyMissing")
      assert.include(empty.message, "MY_KEY")
      const local = yield* apiKeyConfig(undefined)
      assert.strictEqual(Redacted.value(local), "not-needed")
    })
  )
})
