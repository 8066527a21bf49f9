import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import {
  Budget,
  defaultRoleDefaults,
  evaluateSystem,
  LanguageModel,
  type LanguageModelClient,
  makeTopology,
  MasExecutor,
  type RoleClients
} from "@maspo/core"
import { openAiClient, requestSeed, startServer } from "@maspo/core/openai"
import { arithTask, arithTestItems, SIM_MODEL, simClients, simResponse, simSequential } from "@maspo/core/sim"

/**
 * Why an eval against `maspo serve` scores differently from the same eval on the embedded simulator
 * at the same run seed: the OpenAI wire format has one `seed` and no sample index, so the client
 * sends `requestSeed(seed, sampleIndex)` (a hash of both) and the server answers the request at that
 * seed with sample index 0. The server is the embedded simulator exactly, at that seed: an embedded
 * client that folds the seeds the same way gives the served answers, item for item.
 */

const items = arithTestItems().slice(0, 100)

const scoresWith = (clients: RoleClients) =>
  Effect.gen(function* () {
    const topology = yield* makeTopology(simSequential)
    const result = yield* evaluateSystem(topology, {}, arithTask, items, { concurrency: 16 })
    return result.scored.map((s) => s.score)
  }).pipe(
    Effect.provide(
      MasExecutor.layer.pipe(
        Layer.provideMerge(LanguageModel.layer(clients, defaultRoleDefaults(0))),
        Layer.provideMerge(Budget.layer)
      )
    )
  )

const same = (client: LanguageModelClient): RoleClients => ({
  agent: client,
  optimizer: client,
  evaluator: client
})

/** The embedded simulator answering each request as the server receives it. */
const wireSeeded: LanguageModelClient = {
  provider: "sim",
  model: SIM_MODEL,
  generate: (request) =>
    Effect.sync(() =>
      simResponse({ ...request, seed: requestSeed(request.seed, request.sampleIndex), sampleIndex: 0 })
    )
}

describe("maspo serve against the embedded simulator", () => {
  it.effect(
    "the server answers as the embedded simulator at the seed the client sends",
    () =>
      Effect.acquireUseRelease(
        Effect.promise(() =>
          startServer({ answer: (r) => Promise.resolve(simResponse(r)), models: [SIM_MODEL] })
        ),
        (server) =>
          Effect.gen(function* () {
            const http = yield* openAiClient({
              role: "agent",
              baseUrl: server.url,
              model: SIM_MODEL,
              apiKey: Redacted.make("not-needed"),
              jitterSeed: 0
            })
            const served = yield* scoresWith(same(http))
            const folded = yield* scoresWith(same(wireSeeded))
            const embedded = yield* scoresWith(simClients())
            assert.deepStrictEqual(served, folded)
            // Not the embedded simulator's own draws: another sample of the same distribution (the
            // README's `maspo eval --task arith --mas sequential --n 100`: 52/100 embedded, 45/100 served).
            const correct = (scores: ReadonlyArray<number>) => scores.reduce((a, b) => a + b, 0)
            assert.strictEqual(correct(embedded), 52)
            assert.strictEqual(correct(served), 45)
          }),
        (server) => Effect.promise(() => server.close())
      ),
    60_000
  )
})
