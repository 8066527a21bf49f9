import { assert, describe, it } from "@effect/vitest"
import type { LanguageModelClient, LMRequest } from "@maspo/core"
import { cacheKey, cacheKeyInput, exportCache, openCallStore, withCache } from "@maspo/core/cache"
import { Effect, Redacted } from "effect"
import { existsSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gunzipSync } from "node:zlib"

const SECRET = "sk-test-SECRET-123"

/** Every file of the store (db, WAL, shared memory) that exists right now, as bytes. */
const storeBytes = (dbPath: string): Array<readonly [string, Buffer]> =>
  [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]
    .filter((p) => existsSync(p))
    .map((p) => [p, readFileSync(p)] as const)

const contains = (bytes: Buffer, needle: string) => bytes.includes(Buffer.from(needle, "utf8"))

/** A provider as an HTTP client would be: base URL and API key in its configuration, sent as headers. */
const fakeHttpClient = (apiKey: Redacted.Redacted<string>, baseUrl: string) => {
  const sent: Array<{ url: string; headers: Record<string, string>; body: string }> = []
  const client: LanguageModelClient = {
    provider: "openai",
    model: "gpt-test",
    generate: (request: LMRequest) =>
      Effect.sync(() => {
        sent.push({
          url: `${baseUrl}/chat/completions`,
          headers: { authorization: `Bearer ${Redacted.value(apiKey)}`, "content-type": "application/json" },
          body: JSON.stringify({ model: request.model, messages: request.messages, top_p: 0.5 })
        })
        return {
          text: `reply ${sent.length} to ${request.messages.at(-1)?.content ?? ""}`,
          usage: { promptTokens: 12, completionTokens: 3 }
        }
      })
  }
  return { client, sent }
}

const request = (content: string, sampleIndex = 0): LMRequest => ({
  messages: [
    { role: "system", content: "answer briefly" },
    { role: "user", content }
  ],
  model: "gpt-test",
  temperature: 0.7,
  maxTokens: 32,
  seed: 5,
  sampleIndex
})

describe("call cache secrets", () => {
  it.effect("never writes the API key: not in the db, the WAL, or the export", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "maspo-cache-secret-"))
      const dbPath = join(dir, "calls.sqlite")
      const { client, sent } = fakeHttpClient(Redacted.make(SECRET), "https://api.example.test/v1")
      const store = yield* openCallStore(dbPath)
      const cached = withCache(client, store, "read-write", { top_p: 0.5 }, { role: "agent" })
      for (let i = 0; i < 20; i++) yield* cached.generate(request(`question ${i % 7}`, i % 3))
      yield* withCache(client, store, "record-fresh", { top_p: 0.5 }).generate(request("question 0"))
      // The key really went through the request path.
      assert.isAbove(sent.length, 0)
      assert.isTrue(sent.every((s) => s.headers.authorization === `Bearer ${SECRET}`))

      // While the store is open the WAL holds the recent writes.
      const open = storeBytes(dbPath)
      assert.isTrue(open.some(([p]) => p.endsWith("-wal")))
      for (const [p, bytes] of open) assert.isFalse(contains(bytes, SECRET), `secret found in ${p}`)
      yield* store.close

      for (const [p, bytes] of storeBytes(dbPath))
        assert.isFalse(contains(bytes, SECRET), `secret found in ${p}`)
      const out = join(dir, "calls.jsonl.gz")
      yield* exportCache(dbPath, out)
      const exported = readFileSync(out)
      assert.isFalse(contains(exported, SECRET))
      const plain = gunzipSync(exported)
      assert.isFalse(contains(plain, SECRET))
      assert.isFalse(contains(plain, "api.example.test"))
      // The export does hold the conversation (the search above looks in the right bytes).
      assert.isTrue(contains(plain, "question 3"))
    })
  )

  it.effect("control: a secret that is part of a request is found by the same search", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "maspo-cache-secret-"))
      const dbPath = join(dir, "calls.sqlite")
      const store = yield* openCallStore(dbPath)
      const input = cacheKeyInput("openai", request(`leaked ${SECRET}`))
      yield* store.put(cacheKey(input), input, { text: "x", usage: { promptTokens: 1, completionTokens: 1 } })
      assert.isTrue(storeBytes(dbPath).some(([, bytes]) => contains(bytes, SECRET)))
      yield* store.close
      assert.isTrue(storeBytes(dbPath).some(([, bytes]) => contains(bytes, SECRET)))
      yield* exportCache(dbPath, join(dir, "x.jsonl.gz"))
      assert.isTrue(contains(gunzipSync(readFileSync(join(dir, "x.jsonl.gz"))), SECRET))
    })
  )
})
