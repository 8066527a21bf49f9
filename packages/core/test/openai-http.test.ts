import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import OpenAI from "openai"
import { canonicalJson, type LMRequest, sha256Hex } from "@maspo/core"
import {
  openAiClient,
  type OpenAiClientOptions,
  requestSeed,
  type ServerOptions,
  startServer
} from "@maspo/core/openai"

/** A deterministic fake model: the answer is a hash of what the server was asked. */
const answer: ServerOptions["answer"] = async (request) => ({
  text: `answer-${sha256Hex(canonicalJson(request)).slice(0, 16)}`,
  usage: { promptTokens: request.messages.length * 10, completionTokens: 7 }
})

const req = (i: number, extra: Partial<LMRequest> = {}): LMRequest => ({
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: `question ${i}` }
  ],
  model: "maspo-sim",
  temperature: 0,
  maxTokens: 64,
  seed: 7,
  sampleIndex: 0,
  ...extra
})

/** Runs `body` against a fresh server; the server is closed afterwards whatever happens. */
const withServer = <A, E>(
  options: Omit<ServerOptions, "answer"> & { readonly answer?: ServerOptions["answer"] },
  body: (server: Awaited<ReturnType<typeof startServer>>) => Effect.Effect<A, E>
) =>
  Effect.acquireUseRelease(
    Effect.promise(() => startServer({ answer, ...options })),
    body,
    (server) => Effect.promise(() => server.close())
  )

const clientFor = (url: string, options: Partial<OpenAiClientOptions> = {}) =>
  openAiClient({
    role: "agent",
    baseUrl: url,
    model: "maspo-sim",
    apiKey: Redacted.make("not-needed"),
    baseDelayMs: 5,
    maxDelayMs: 2000,
    jitterSeed: 1,
    timeoutMs: 5000,
    ...options
  })

const batch = Array.from({ length: 50 }, (_, i) => req(i, { sampleIndex: i % 3 }))

describe("openai provider over HTTP", () => {
  it.live("a batch with 20% injected 429/500/malformed answers gives the clean batch's responses", () =>
    Effect.gen(function* () {
      const clean = yield* withServer({}, (server) =>
        Effect.gen(function* () {
          const client = yield* clientFor(server.url, { concurrency: 8 })
          const out = yield* Effect.forEach(batch, client.generate, { concurrency: "unbounded" })
          assert.strictEqual(server.stats().requests, 50)
          assert.strictEqual(client.stats().attempts, 50)
          return out
        })
      )
      const faulty = yield* withServer(
        { rate429: 0.07, rate500: 0.07, rateMalformed: 0.06, retryAfterSeconds: 0.01, faultSeed: 3 },
        (server) =>
          Effect.gen(function* () {
            const client = yield* clientFor(server.url, { concurrency: 8, maxRetries: 5 })
            const out = yield* Effect.forEach(batch, client.generate, { concurrency: "unbounded" })
            const stats = server.stats()
            assert.isAbove(stats.faults.rate429, 0)
            assert.isAbove(stats.faults.rate500, 0)
            assert.isAbove(stats.faults.malformed, 0)
            const faults = stats.faults.rate429 + stats.faults.rate500 + stats.faults.malformed
            assert.strictEqual(stats.requests, 50 + faults)
            assert.strictEqual(stats.completions, 50)
            const failures = client.stats().failures
            assert.strictEqual(failures.RateLimited, stats.faults.rate429)
            assert.strictEqual(failures.ServerError, stats.faults.rate500)
            assert.strictEqual(failures.InvalidResponse, stats.faults.malformed)
            return out
          })
      )
      assert.deepStrictEqual(faulty, clean)
      assert.strictEqual(new Set(clean.map((r) => r.text)).size, 50)
    })
  )

  it.live(
    "the request body carries model, messages, temperature, max_tokens, the folded seed and extras",
    () =>
      withServer({}, (server) =>
        Effect.gen(function* () {
          const client = yield* clientFor(server.url, {
            extraBody: { top_k: 20, chat_template_kwargs: { enable_thinking: false } }
          })
          const request = req(1, { sampleIndex: 4, temperature: 0.5 })
          yield* client.generate(request)
          const body = server.arrivals()[0]!.body as Record<string, unknown>
          assert.strictEqual(body["model"], "maspo-sim")
          assert.deepStrictEqual(body["messages"], request.messages)
          assert.strictEqual(body["temperature"], 0.5)
          assert.strictEqual(body["max_tokens"], 64)
          assert.strictEqual(body["seed"], requestSeed(7, 4))
          assert.strictEqual(body["top_k"], 20)
          assert.deepStrictEqual(body["chat_template_kwargs"], { enable_thinking: false })
        })
      )
  )

  it.live("a stalled response times out and the retry succeeds", () =>
    withServer({ rateStall: 1, maxFaultsPerRequest: 1 }, (server) =>
      Effect.gen(function* () {
        const client = yield* clientFor(server.url, { timeoutMs: 300 })
        const response = yield* client.generate(req(1))
        assert.match(response.text, /^answer-/)
        assert.deepStrictEqual(
          server.arrivals().map((a) => a.outcome),
          ["stall", "ok"]
        )
        assert.strictEqual(client.stats().failures.Timeout, 1)
        assert.strictEqual(client.stats().attempts, 2)
      })
    )
  )

  it.live("a response whose body stalls after the headers also times out and is retried", () =>
    Effect.gen(function* () {
      let requests = 0
      const completion = JSON.stringify({
        id: "x",
        object: "chat.completion",
        created: 0,
        model: "m",
        choices: [
          { index: 0, message: { role: "assistant", content: "late but fine" }, finish_reason: "stop" }
        ]
      })
      const raw = createServer((request, res) => {
        request.resume()
        requests++
        res.writeHead(200, {
          "content-type": "application/json",
          "content-length": String(completion.length)
        })
        if (requests === 1)
          res.write(completion.slice(0, 10)) // then nothing: the body never ends
        else res.end(completion)
      })
      yield* Effect.promise(() => new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve)))
      const port = (raw.address() as AddressInfo).port
      const result = yield* Effect.gen(function* () {
        const client = yield* clientFor(`http://127.0.0.1:${port}/v1`, { timeoutMs: 300 })
        const response = yield* client.generate(req(1))
        return { response, stats: client.stats() }
      }).pipe(
        Effect.ensuring(
          Effect.promise(
            () =>
              new Promise<void>((resolve) => {
                raw.close(() => resolve())
                raw.closeAllConnections()
              })
          )
        )
      )
      assert.strictEqual(result.response.text, "late but fine")
      assert.strictEqual(result.stats.failures.Timeout, 1)
      assert.strictEqual(requests, 2)
    })
  )

  it.live("no more attempts are in flight than the client's concurrency", () => {
    let inFlight = 0
    let peak = 0
    const slow: ServerOptions["answer"] = async (request) => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((resolve) => setTimeout(resolve, 100))
      inFlight--
      return answer(request)
    }
    return withServer({ answer: slow }, (server) =>
      Effect.gen(function* () {
        const client = yield* clientFor(server.url, { concurrency: 3 })
        yield* Effect.forEach(batch.slice(0, 12), client.generate, { concurrency: "unbounded" })
        assert.isAtMost(peak, 3)
        assert.isAtLeast(peak, 2) // the limit is not a serialisation either
        assert.strictEqual(server.stats().requests, 12)
      })
    )
  })

  it.live("400 and 401 fail at once without retries", () =>
    Effect.gen(function* () {
      yield* withServer({}, (server) =>
        Effect.gen(function* () {
          const client = yield* clientFor(server.url)
          const error = yield* client.generate(req(1, { temperature: 5 })).pipe(Effect.flip)
          assert.strictEqual(error._tag, "LanguageModelError")
          assert.strictEqual(error.role, "agent")
          assert.include(error.message, "ClientError (HTTP 400) after 1 attempt")
          assert.include(error.message, "temperature")
          assert.strictEqual(server.stats().requests, 1)
        })
      )
      yield* withServer({ authToken: "right-key" }, (server) =>
        Effect.gen(function* () {
          const client = yield* clientFor(server.url, { apiKey: Redacted.make("wrong-key") })
          const error = yield* client.generate(req(1)).pipe(Effect.flip)
          assert.include(error.message, "HTTP 401")
          assert.strictEqual(server.stats().requests, 1)
        })
      )
    })
  )

  it.live("Retry-After is honoured", () =>
    withServer({ rate429: 1, maxFaultsPerRequest: 1, retryAfterSeconds: 0.4 }, (server) =>
      Effect.gen(function* () {
        const client = yield* clientFor(server.url, { baseDelayMs: 5 })
        yield* client.generate(req(1))
        const [first, second] = server.arrivals()
        assert.strictEqual(first!.outcome, "rate429")
        assert.strictEqual(second!.outcome, "ok")
        // Backoff alone would wait under 5 ms; the header asked for 400 ms.
        assert.isAtLeast(second!.atMs - first!.atMs, 350)
      })
    )
  )

  it.live("identical concurrent requests are sent once", () =>
    withServer({ latencyMs: 100 }, (server) =>
      Effect.gen(function* () {
        const client = yield* clientFor(server.url)
        const out = yield* Effect.all(
          Array.from({ length: 5 }, () => client.generate(req(1))),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(server.stats().requests, 1)
        assert.strictEqual(new Set(out.map((r) => r.text)).size, 1)
        assert.strictEqual(client.stats().joined, 4)
        // Once settled, the same request is sent again (single-flight is not a cache).
        yield* client.generate(req(1))
        assert.strictEqual(server.stats().requests, 2)
      })
    )
  )

  it.live("the API key never appears in an error", () =>
    withServer({ authToken: "the-real-key" }, (server) =>
      Effect.gen(function* () {
        const secret = "sk-test-SECRET-0123456789abcdef"
        const client = yield* clientFor(server.url, { apiKey: Redacted.make(secret) })
        const error = yield* client.generate(req(1)).pipe(Effect.flip)
        // The server echoes the presented key in its 401 body, as some providers do.
        assert.include(error.message, "Incorrect API key provided")
        for (const text of [error.message, JSON.stringify(error), String(error), error.stack ?? ""])
          assert.notInclude(text, secret)
      })
    )
  )

  it.live("invalid responses are retried, then reported with the cache key and the reason", () =>
    withServer({ rateMalformed: 1, maxFaultsPerRequest: 100 }, (server) =>
      Effect.gen(function* () {
        const client = yield* clientFor(server.url, {
          maxRetries: 2,
          keyOf: (r) => `key-${sha256Hex(canonicalJson(r)).slice(0, 8)}`
        })
        const request = req(1)
        const error = yield* client.generate(request).pipe(Effect.flip)
        const key = `key-${sha256Hex(canonicalJson(request)).slice(0, 8)}`
        assert.strictEqual(error.cacheKey, key)
        assert.include(error.message, key)
        assert.include(error.message, "InvalidResponse")
        assert.include(error.message, "after 3 attempts")
        assert.strictEqual(server.stats().requests, 3)
      })
    )
  )

  it.live("a server that is down is retried a bounded number of times", () =>
    Effect.gen(function* () {
      const down = yield* Effect.promise(() => startServer({ answer }))
      yield* Effect.promise(() => down.close())
      const client = yield* clientFor(down.url, { maxRetries: 2 })
      const error = yield* client.generate(req(1)).pipe(Effect.flip)
      assert.include(error.message, "Connection")
      assert.include(error.message, "after 3 attempts")
      assert.strictEqual(client.stats().failures.Connection, 3)
    })
  )

  it.live("usage falls back to approximate token counts when the server reports none", () =>
    withServer({ answer: async () => ({ text: "12345678" }) }, (server) =>
      Effect.gen(function* () {
        const client = yield* clientFor(server.url)
        const response = yield* client.generate(req(1))
        assert.strictEqual(response.text, "12345678")
        assert.strictEqual(response.usage.completionTokens, 2)
      })
    )
  )

  it.live("the official openai client talks to the server", () =>
    withServer({ models: ["maspo-sim", "other"] }, (server) =>
      Effect.promise(async () => {
        const openai = new OpenAI({ baseURL: server.url, apiKey: "not-needed", maxRetries: 0 })
        const completion = await openai.chat.completions.create({
          model: "maspo-sim",
          messages: [{ role: "user", content: "hello" }],
          temperature: 0,
          max_tokens: 16,
          seed: 3
        })
        assert.strictEqual(completion.object, "chat.completion")
        assert.strictEqual(completion.created, 0)
        assert.strictEqual(completion.choices[0]!.finish_reason, "stop")
        assert.strictEqual(completion.choices[0]!.message.role, "assistant")
        assert.match(completion.choices[0]!.message.content ?? "", /^answer-/)
        assert.strictEqual(completion.usage!.total_tokens, 17)
        const models = []
        for await (const m of openai.models.list()) models.push(m.id)
        assert.deepStrictEqual(models, ["maspo-sim", "other"])
        const notFound = await fetch(`${server.url}/nothing`)
        assert.strictEqual(notFound.status, 404)
        assert.isObject(((await notFound.json()) as { error: unknown }).error)
        const streamed = await fetch(`${server.url}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], stream: true })
        })
        assert.strictEqual(streamed.status, 400)
        assert.include(await streamed.text(), "stream")
      })
    )
  )
})
