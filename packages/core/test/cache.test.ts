import { assert, describe, it } from "@effect/vitest"
import {
  Budget,
  defaultRoleDefaults,
  LanguageModel,
  type LanguageModelClient,
  LanguageModelError,
  type LMRequest,
  scriptedClient
} from "@maspo/core"
import {
  cacheKey,
  cacheKeyInput,
  CallCache,
  type CallStore,
  openCallStore,
  replayMissMessage,
  withCache
} from "@maspo/core/cache"
import Database from "better-sqlite3"
import { Deferred, Effect, Exit, Fiber, Layer } from "effect"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const tempDir = () => mkdtempSync(join(tmpdir(), "maspo-cache-"))

const request = (content: string, sampleIndex = 0, model = "m1"): LMRequest => ({
  messages: [
    { role: "system", content: "be brief" },
    { role: "user", content }
  ],
  model,
  temperature: 0,
  maxTokens: 64,
  seed: 1,
  sampleIndex
})

/** A client answering `answer#n` (n counts its calls), so a live call is told apart from a replay. */
const countingClient = (provider = "sim") => {
  const calls: Array<LMRequest> = []
  const client: LanguageModelClient = {
    provider,
    model: "m1",
    generate: (req) =>
      Effect.sync(() => {
        calls.push(req)
        return { text: `answer#${calls.length}`, usage: { promptTokens: 10, completionTokens: calls.length } }
      })
  }
  return { client, calls }
}

const withStore = <A, E>(f: (store: CallStore, dir: string) => Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const dir = tempDir()
    const store = yield* openCallStore(join(dir, "nested", "calls.sqlite"))
    return yield* f(store, dir).pipe(Effect.ensuring(store.close))
  })

describe("CallStore", () => {
  it.effect("creates its directory, uses WAL, records the schema version; the first answer wins", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const path = join(dir, "a", "b", "calls.sqlite")
      const store = yield* openCallStore(path)
      const input = cacheKeyInput("sim", request("q"))
      const key = cacheKey(input)
      assert.isUndefined(yield* store.get(key))
      assert.isTrue(
        yield* store.put(key, input, { text: "first", usage: { promptTokens: 3, completionTokens: 4 } })
      )
      assert.isFalse(
        yield* store.put(key, input, { text: "second", usage: { promptTokens: 5, completionTokens: 6 } })
      )
      const got = yield* store.get(key)
      assert.strictEqual(got?.text, "first")
      assert.deepStrictEqual(got?.usage, { promptTokens: 3, completionTokens: 4 })
      assert.strictEqual(got?.provider, "sim")
      assert.strictEqual(got?.model, "m1")
      assert.deepStrictEqual(JSON.parse(got!.request), input)
      yield* store.overwrite(key, input, { text: "fresh", usage: { promptTokens: 1, completionTokens: 2 } })
      assert.strictEqual((yield* store.get(key))?.text, "fresh")
      assert.strictEqual(yield* store.count, 1)
      yield* store.close
      yield* store.close // idempotent

      const db = new Database(path, { readonly: true })
      try {
        assert.strictEqual(db.pragma("journal_mode", { simple: true }), "wal")
        assert.strictEqual(
          db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get(),
          "1"
        )
        assert.strictEqual(db.prepare("SELECT text FROM calls WHERE key = ?").pluck().get(key), "fresh")
      } finally {
        db.close()
      }
      // Reopening keeps the data.
      const again = yield* openCallStore(path)
      assert.strictEqual((yield* again.get(key))?.text, "fresh")
      yield* again.close
    })
  )

  it.effect("fails with a CacheError naming the path for a file that is not a cache", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const junk = join(dir, "junk.sqlite")
      writeFileSync(
        junk,
        "this is not a database, just text that is long enough to look like a header".repeat(20)
      )
      const e1 = yield* Effect.flip(openCallStore(junk))
      assert.strictEqual(e1._tag, "CacheError")
      assert.strictEqual(e1.path, junk)

      const future = join(dir, "future.sqlite")
      const db = new Database(future)
      db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
      db.prepare("INSERT INTO meta VALUES ('schema_version', '99')").run()
      db.close()
      const e2 = yield* Effect.flip(openCallStore(future))
      assert.include(e2.message, "schema version 99")

      const e3 = yield* Effect.flip(openCallStore(join(dir, "missing.sqlite"), { mustExist: true }))
      assert.strictEqual(e3._tag, "CacheError")
      assert.isFalse(existsSync(join(dir, "missing.sqlite")))
    })
  )
})

describe("withCache modes", () => {
  it.effect("read-write: a miss calls the provider and stores; a hit is served from disk", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const { client, calls } = countingClient()
        const cached = withCache(client, store)
        assert.strictEqual(cached.provider, "sim")
        assert.strictEqual(cached.model, "m1")
        const a = yield* cached.generate(request("q"))
        assert.deepStrictEqual(a, {
          text: "answer#1",
          usage: { promptTokens: 10, completionTokens: 1 },
          cached: false
        })
        const b = yield* cached.generate(request("q"))
        assert.deepStrictEqual(b, {
          text: "answer#1",
          usage: { promptTokens: 10, completionTokens: 1 },
          cached: true
        })
        assert.strictEqual(calls.length, 1)
        // Another sample index is another answer.
        const c = yield* cached.generate(request("q", 1))
        assert.strictEqual(c.text, "answer#2")
        assert.strictEqual(calls.length, 2)
        assert.strictEqual(yield* store.count, 2)
        // A new wrapper over the same file replays too.
        const d = yield* withCache(countingClient().client, store).generate(request("q", 1))
        assert.deepStrictEqual(d, { ...c, cached: true })
      })
    )
  )

  it.effect("the base URL is not in the key: the same model at another address replays", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const at = (baseUrl: string) => {
          const { client, calls } = countingClient("openai")
          return {
            client: {
              ...client,
              generate: (r: LMRequest) =>
                client.generate(r).pipe(Effect.map((x) => ({ ...x, text: `${baseUrl}:${x.text}` })))
            },
            calls
          }
        }
        const one = at("http://localhost:8000/v1")
        const two = at("https://api.example.com/v1")
        const a = yield* withCache(one.client, store).generate(request("q"))
        const b = yield* withCache(two.client, store).generate(request("q"))
        assert.strictEqual(b.text, a.text)
        assert.isTrue(b.cached)
        assert.strictEqual(two.calls.length, 0)
        // ...but another provider kind is another key.
        const three = countingClient("sim")
        yield* withCache(three.client, store).generate(request("q"))
        assert.strictEqual(three.calls.length, 1)
      })
    )
  )

  it.effect("extraBody is part of the key", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const { client, calls } = countingClient()
        yield* withCache(client, store, "read-write", { top_p: 0.9 }).generate(request("q"))
        yield* withCache(client, store, "read-write", { top_p: 0.9 }).generate(request("q"))
        assert.strictEqual(calls.length, 1)
        yield* withCache(client, store, "read-write", { top_p: 0.5 }).generate(request("q"))
        assert.strictEqual(calls.length, 2)
      })
    )
  )

  it.effect("replay: a hit is served; a miss fails naming the key and the request, without calling", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const recorder = countingClient()
        yield* withCache(recorder.client, store).generate(request("known"))
        const { client, calls } = countingClient()
        const replay = withCache(client, store, "replay", {}, { role: "agent" })
        const hit = yield* replay.generate(request("known"))
        assert.deepStrictEqual(hit, {
          text: "answer#1",
          usage: { promptTokens: 10, completionTokens: 1 },
          cached: true
        })

        const long = `${"x".repeat(150)} ${"y".repeat(49)}${"z".repeat(100)}`
        const missing = request(long, 3, "m1")
        const error = yield* Effect.flip(replay.generate(missing))
        const key = cacheKey(cacheKeyInput("sim", missing))
        assert.instanceOf(error, LanguageModelError)
        assert.strictEqual(error.role, "agent")
        assert.strictEqual(error.cacheKey, key)
        assert.include(error.message, key)
        assert.include(error.message, "model m1")
        assert.include(error.message, "sampleIndex 3")
        assert.include(error.message, long.slice(0, 200))
        assert.notInclude(error.message, long.slice(0, 201))
        assert.strictEqual(error.message, replayMissMessage(key, missing))
        assert.strictEqual(calls.length, 0)
        assert.strictEqual(yield* store.count, 1)
      })
    )
  )

  it.effect("record-fresh: always calls and overwrites; off: passes through and stores nothing", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const { client, calls } = countingClient()
        yield* withCache(client, store).generate(request("q"))
        const fresh = withCache(client, store, "record-fresh")
        const a = yield* fresh.generate(request("q"))
        const b = yield* fresh.generate(request("q"))
        assert.deepStrictEqual([a.text, a.cached, b.text, b.cached], ["answer#2", false, "answer#3", false])
        assert.strictEqual(calls.length, 3)
        const served = yield* withCache(client, store).generate(request("q"))
        assert.deepStrictEqual([served.text, served.cached], ["answer#3", true])

        const off = withCache(client, store, "off")
        const c = yield* off.generate(request("q"))
        const d = yield* off.generate(request("other"))
        assert.deepStrictEqual([c.text, d.text], ["answer#4", "answer#5"])
        assert.isUndefined(c.cached)
        assert.strictEqual(yield* store.count, 1)
      })
    )
  )

  it.effect("single flight: identical requests in flight reach the provider once", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        const bothStarted = yield* Deferred.make<void>()
        const calls: Array<string> = []
        const client: LanguageModelClient = {
          provider: "sim",
          model: "m1",
          generate: (req) =>
            Effect.sync(() => calls.push(req.messages[1]!.content)).pipe(
              Effect.andThen((n) => (n === 2 ? Deferred.succeed(bothStarted, undefined) : Effect.void)),
              Effect.andThen(Deferred.await(gate)),
              Effect.as({
                text: `live:${req.messages[1]!.content}`,
                usage: { promptTokens: 1, completionTokens: 1 }
              })
            )
        }
        // Two wrappers over the same store share the flights.
        const w1 = withCache(client, store)
        const w2 = withCache(client, store)
        const fibers = yield* Effect.forEach([w1, w2, w1, w2, w1], (w, i) =>
          Effect.forkChild(w.generate(request(i === 4 ? "other" : "same")))
        )
        // Fibers start in order: once the last one ("other") is in the provider, the followers of
        // "same" are waiting on the leader. The provider answers only after that.
        yield* Deferred.await(bothStarted)
        for (let i = 0; i < 20; i++) yield* Effect.yieldNow
        assert.deepStrictEqual([...calls].sort(), ["other", "same"])
        yield* Deferred.succeed(gate, undefined)
        const results = yield* Effect.forEach(fibers, Fiber.join)
        assert.deepStrictEqual(
          results.map((r) => r.text),
          ["live:same", "live:same", "live:same", "live:same", "live:other"]
        )
        // One leader per key answered live; the followers were not live calls.
        assert.strictEqual(results.slice(0, 4).filter((r) => r.cached === false).length, 1)
        assert.strictEqual(results.slice(0, 4).filter((r) => r.cached === true).length, 3)
        assert.isFalse(results[4]!.cached)
        assert.strictEqual(calls.length, 2)
        assert.strictEqual(yield* store.count, 2)
      })
    )
  )

  it.effect("single flight: a failure is shared and not stored; the next call retries", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const gate = yield* Deferred.make<void>()
        let n = 0
        const client: LanguageModelClient = {
          provider: "sim",
          model: "m1",
          generate: () =>
            Effect.suspend(() => {
              n++
              return n === 1
                ? Deferred.await(gate).pipe(
                    Effect.andThen(
                      Effect.fail(new LanguageModelError({ role: "agent", message: "HTTP 500" }))
                    )
                  )
                : Effect.succeed({ text: "ok", usage: { promptTokens: 1, completionTokens: 1 } })
            })
        }
        const cached = withCache(client, store)
        const fibers = yield* Effect.forEach([1, 2, 3], () => Effect.forkChild(cached.generate(request("q"))))
        for (let i = 0; i < 20; i++) yield* Effect.yieldNow
        yield* Deferred.succeed(gate, undefined)
        const exits = yield* Effect.forEach(fibers, Fiber.await)
        for (const exit of exits) {
          assert.isTrue(Exit.isFailure(exit))
        }
        assert.strictEqual(n, 1)
        assert.strictEqual(yield* store.count, 0)
        const retry = yield* cached.generate(request("q"))
        assert.deepStrictEqual([retry.text, retry.cached, n], ["ok", false, 2])
      })
    )
  )

  it.effect("single flight: when the leader is interrupted, a follower calls on its own", () =>
    withStore((store) =>
      Effect.gen(function* () {
        let n = 0
        const started = yield* Deferred.make<void>()
        const client: LanguageModelClient = {
          provider: "sim",
          model: "m1",
          generate: () =>
            Effect.suspend(() => {
              n++
              return n === 1
                ? Deferred.succeed(started, undefined).pipe(Effect.andThen(Effect.never))
                : Effect.succeed({ text: "second", usage: { promptTokens: 1, completionTokens: 1 } })
            })
        }
        const cached = withCache(client, store)
        const leader = yield* Effect.forkChild(cached.generate(request("q")))
        yield* Deferred.await(started)
        const follower = yield* Effect.forkChild(cached.generate(request("q")))
        for (let i = 0; i < 20; i++) yield* Effect.yieldNow
        assert.strictEqual(n, 1)
        yield* Fiber.interrupt(leader)
        const result = yield* Fiber.join(follower)
        assert.deepStrictEqual([result.text, result.cached, n], ["second", false, 2])
      })
    )
  )

  it.effect("a concurrent writer's answer wins over this call's (what a replay will see)", () =>
    withStore((store) =>
      Effect.gen(function* () {
        const input = cacheKeyInput("sim", request("q"))
        const client: LanguageModelClient = {
          provider: "sim",
          model: "m1",
          // Another process records an answer while this call is in flight.
          generate: () =>
            store
              .put(cacheKey(input), input, {
                text: "recorded elsewhere",
                usage: { promptTokens: 9, completionTokens: 9 }
              })
              .pipe(
                Effect.orDie,
                Effect.as({ text: "mine", usage: { promptTokens: 1, completionTokens: 2 } })
              )
        }
        const r = yield* withCache(client, store).generate(request("q"))
        assert.deepStrictEqual(r, {
          text: "recorded elsewhere",
          usage: { promptTokens: 1, completionTokens: 2 },
          cached: false
        })
        const replay = yield* withCache(client, store, "replay").generate(request("q"))
        assert.strictEqual(replay.text, r.text)
      })
    )
  )

  it.effect("a store failure is a LanguageModelError naming the cache", () =>
    Effect.gen(function* () {
      const dir = tempDir()
      const store = yield* openCallStore(join(dir, "calls.sqlite"))
      yield* store.close
      const error = yield* Effect.flip(
        withCache(countingClient().client, store, "read-write", {}, { role: "optimizer" }).generate(
          request("q")
        )
      )
      assert.strictEqual(error.role, "optimizer")
      assert.include(error.message, join(dir, "calls.sqlite"))
      assert.isString(error.cacheKey)
    })
  )
})

describe("CallCache service", () => {
  it.effect("wraps the clients of a run; the Budget counts hits and live calls", () =>
    Effect.gen(function* () {
      const path = join(tempDir(), "run", "calls.sqlite")
      const run = Effect.gen(function* () {
        const lm = yield* LanguageModel
        yield* lm.generate("agent", { messages: [{ role: "user", content: "q1" }] })
        yield* lm.generate("agent", { messages: [{ role: "user", content: "q1" }] })
        yield* lm.generate("evaluator", { messages: [{ role: "user", content: "q2" }] })
        return yield* (yield* Budget).report
      })
      const layerFor = (mode: "read-write" | "replay") =>
        Layer.unwrap(
          Effect.gen(function* () {
            const cache = yield* CallCache
            const base = (role: "agent" | "optimizer" | "evaluator") =>
              cache.wrap(
                scriptedClient(role, (r) => `reply to ${r.messages[0]!.content}`),
                {},
                { role }
              )
            return LanguageModel.layer(
              { agent: base("agent"), optimizer: base("optimizer"), evaluator: base("evaluator") },
              defaultRoleDefaults(0)
            ).pipe(Layer.provideMerge(Budget.layer))
          })
        ).pipe(Layer.provide(CallCache.layer(path, mode)))

      const first = yield* run.pipe(Effect.provide(layerFor("read-write")))
      assert.deepStrictEqual([first.agent.calls, first.agent.liveCalls, first.agent.cacheHits], [2, 1, 1])
      assert.deepStrictEqual([first.evaluator.liveCalls, first.evaluator.cacheHits], [1, 0])
      const second = yield* run.pipe(Effect.provide(layerFor("replay")))
      assert.deepStrictEqual([second.agent.liveCalls, second.agent.cacheHits], [0, 2])
      assert.deepStrictEqual([second.evaluator.liveCalls, second.evaluator.cacheHits], [0, 1])
    })
  )

  it.effect("off mode does not create the file", () =>
    Effect.gen(function* () {
      const path = join(tempDir(), "never", "calls.sqlite")
      const count = yield* Effect.gen(function* () {
        const cache = yield* CallCache
        const { client, calls } = countingClient()
        const wrapped = cache.wrap(client)
        assert.strictEqual(wrapped, client)
        yield* wrapped.generate(request("q"))
        assert.strictEqual(calls.length, 1)
        return yield* cache.count
      }).pipe(Effect.provide(CallCache.layer(path, "off")))
      assert.strictEqual(count, 0)
      assert.isFalse(existsSync(path))
    })
  )
})
