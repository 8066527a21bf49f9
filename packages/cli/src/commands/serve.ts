import { Fraction, InputError, NonNegativeInt, NonNegativeNumber, Port, Seed } from "@maspo/core"
import { serverScoped } from "@maspo/core/openai"
import { SIM_MODEL, simResponse } from "@maspo/core/sim"
import { Config, Console, Effect, Option, Redacted } from "effect"
import { Command, Flag } from "effect/cli"
import { checkFlags } from "../configProblems.ts"
import { defaulted, noDefault } from "../help.ts"

/** The port `maspo serve` listens on when --port is not given. */
const DEFAULT_PORT = 8911

const rate = (name: string, what: string) =>
  defaulted(Flag.Finite(name), 0, `Fraction of chat requests answered with ${what}`)

const flags = {
  port: defaulted(Flag.Int("port"), DEFAULT_PORT, "Loopback port (0 = any free port)"),
  rate429: rate("rate-429", "429 Too Many Requests (with Retry-After)"),
  rate500: rate("rate-500", "500 Internal Server Error"),
  rateStall: rate("rate-stall", "no response at all (a stalled connection)"),
  rateMalformed: rate("rate-malformed", "a malformed 200 body"),
  latencyMs: defaulted(
    Flag.Int("latency-ms"),
    0,
    "Minimum response time in milliseconds of every answer from its arrival (the server's own work counts)"
  ),
  stallMs: defaulted(
    Flag.Int("stall-ms"),
    60_000,
    "How long a stalled request is held open, in milliseconds"
  ),
  retryAfter: defaulted(
    Flag.Finite("retry-after"),
    1,
    "Seconds a 429 asks the client to wait: sent in the Retry-After header (rounded up to whole seconds) and in the retry-after-ms header (exact, so fractions count)"
  ),
  faultSeed: defaulted(Flag.Int("fault-seed"), 0, "Seed of the fault draws"),
  apiKeyEnv: Flag.String("api-key-env").pipe(
    Flag.withDescription(
      noDefault(
        "Require `Authorization: Bearer <key>` with the key held in this environment variable",
        "no key is required"
      )
    ),
    Flag.optional
  )
}

export const serveCommand = Command.make(
  "serve",
  flags,
  Effect.fn("maspo.serve")(function* (input) {
    yield* checkFlags([
      ["--port", Port, input.port],
      ["--rate-429", Fraction, input.rate429],
      ["--rate-500", Fraction, input.rate500],
      ["--rate-stall", Fraction, input.rateStall],
      ["--rate-malformed", Fraction, input.rateMalformed],
      ["--latency-ms", NonNegativeInt, input.latencyMs],
      ["--stall-ms", NonNegativeInt, input.stallMs],
      ["--retry-after", NonNegativeNumber, input.retryAfter],
      ["--fault-seed", Seed, input.faultSeed]
    ])
    // One draw picks at most one fault, each rate a slice of [0, 1): the slices must fit.
    const faults = input.rate429 + input.rate500 + input.rateStall + input.rateMalformed
    if (faults > 1)
      return yield* new InputError({
        source: "--rate-429, --rate-500, --rate-stall, --rate-malformed",
        message: `the fault rates add up to ${faults}, more than 1`
      })
    const authToken = Option.isSome(input.apiKeyEnv)
      ? Redacted.value(yield* Config.Redacted(input.apiKeyEnv.value))
      : undefined
    const handle = yield* serverScoped({
      answer: (request) => Promise.resolve(simResponse(request)),
      port: input.port,
      models: [SIM_MODEL],
      rate429: input.rate429,
      rate500: input.rate500,
      rateStall: input.rateStall,
      rateMalformed: input.rateMalformed,
      latencyMs: input.latencyMs,
      stallMs: input.stallMs,
      retryAfterSeconds: input.retryAfter,
      faultSeed: input.faultSeed,
      ...(authToken !== undefined ? { authToken } : {})
    })
    yield* Console.log(
      `maspo serve: embedded simulator at ${handle.url} (model ${SIM_MODEL}); Ctrl-C stops it`
    )
    return yield* Effect.never
  }, Effect.scoped)
).pipe(
  Command.withDescription(
    "An OpenAI-compatible server (POST /v1/chat/completions, GET /v1/models) on 127.0.0.1 answering with the embedded simulator, with optional fault injection"
  ),
  Command.withExamples([
    { command: "maspo serve --port 8911", description: "Serve the simulator" },
    {
      command: "maspo serve --rate-429 0.1 --rate-500 0.05 --rate-malformed 0.05 --latency-ms 20",
      description: "Serve with injected faults"
    }
  ])
)
