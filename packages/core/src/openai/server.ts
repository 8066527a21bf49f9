import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Effect, type Scope } from "effect"
import { canonicalJson, sha256Hex } from "../canonical.ts"
import { approxTokens, type LMRequest, type Message, messagesTokens, type Usage } from "../LanguageModel.ts"
import { unitFromParts } from "../random.ts"

/** The answer to one chat request; usage is approximated from the texts when absent. */
export interface ServerAnswer {
  readonly text: string
  readonly usage?: Usage
}

export type FaultKind = "rate429" | "rate500" | "stall" | "malformed"

export interface FaultOptions {
  /** Fractions of chat requests answered 429 / 500 / never / with a malformed 200 (sum <= 1). */
  readonly rate429?: number
  readonly rate500?: number
  readonly rateStall?: number
  readonly rateMalformed?: number
  /** Every chat answer takes at least this long from its arrival, the server's own work included (default 0). */
  readonly latencyMs?: number
  /** How long a stalled request is held before its connection is closed (default 60000). */
  readonly stallMs?: number
  /** Sent with 429s as `retry-after` (whole seconds, rounded up) and `retry-after-ms` (default 1). */
  readonly retryAfterSeconds?: number
  /** Seed of the fault draws (default 0). */
  readonly faultSeed?: number
  /** Attempts of the same body that may be faulted; later ones never are (default 3). */
  readonly maxFaultsPerRequest?: number
}

export interface ServerOptions extends FaultOptions {
  readonly answer: (request: LMRequest) => Promise<ServerAnswer>
  /** 0 (default) picks a free port. The server binds 127.0.0.1 only. */
  readonly port?: number
  /** Model ids listed by GET /v1/models (default ["maspo-sim"]). */
  readonly models?: ReadonlyArray<string>
  /**
   * When set, chat requests must carry `Authorization: Bearer <authToken>`; others get a 401 whose
   * message echoes the presented key, as some providers do (so clients' scrubbing can be tested).
   */
  readonly authToken?: string
  /** Arrivals kept for `arrivals()`, oldest dropped first (default 10000; 0 keeps none). */
  readonly maxArrivals?: number
}

export type ArrivalOutcome = "ok" | FaultKind | "bad_request" | "unauthorized" | "not_found" | "error"

/**
 * One request as the server saw it. `attempt` counts earlier chat requests with the same body (only
 * while faults are injected; 0 otherwise).
 */
export interface Arrival {
  readonly atMs: number
  readonly method: string
  readonly path: string
  readonly key?: string
  readonly attempt?: number
  /** The decoded chat request body. */
  readonly body?: unknown
  readonly outcome: ArrivalOutcome
}

export interface ServerStats {
  /** Every HTTP request received. */
  readonly requests: number
  /** Chat requests answered with a completion. */
  readonly completions: number
  readonly faults: Readonly<Record<FaultKind, number>>
}

export interface ServerHandle {
  readonly port: number
  /** Base URL for OpenAI clients, e.g. `http://127.0.0.1:40123/v1`. */
  readonly url: string
  readonly stats: () => ServerStats
  readonly arrivals: () => ReadonlyArray<Arrival>
  readonly close: () => Promise<void>
}

class BadRequest extends Error {}

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Maps a chat.completions body to an LMRequest (seed from `seed`, sample index 0: clients fold the
 * sample index into the seed). Throws BadRequest naming the offending field.
 */
export const bodyToRequest = (body: unknown): LMRequest => {
  if (!isRecord(body)) throw new BadRequest("body must be a JSON object")
  if (body["stream"] === true) throw new BadRequest("stream: true is not supported")
  const messages = body["messages"]
  if (!Array.isArray(messages) || messages.length === 0)
    throw new BadRequest("messages must be a non-empty array")
  const parsed: Array<Message> = messages.map((m: unknown, i) => {
    if (!isRecord(m)) throw new BadRequest(`messages[${i}] must be an object`)
    const role = m["role"]
    const content = m["content"]
    if (role !== "system" && role !== "user" && role !== "assistant")
      throw new BadRequest(`messages[${i}].role must be system, user or assistant`)
    if (typeof content !== "string") throw new BadRequest(`messages[${i}].content must be a string`)
    return { role, content }
  })
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const v = body[name]
    if (v === undefined || v === null) return fallback
    if (typeof v !== "number" || !Number.isFinite(v) || v < min || v > max)
      throw new BadRequest(`${name} must be a number in [${min}, ${max}]`)
    return v
  }
  const model = body["model"]
  if (typeof model !== "string" || model.length === 0)
    throw new BadRequest("model must be a non-empty string")
  return {
    messages: parsed,
    model,
    temperature: num("temperature", 1, 0, 2),
    maxTokens: num(
      "max_tokens",
      num("max_completion_tokens", 2048, 1, Number.MAX_SAFE_INTEGER),
      1,
      Number.MAX_SAFE_INTEGER
    ),
    seed: num("seed", 0, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    sampleIndex: 0
  }
}

/** A standard chat.completion object (created fixed at 0 for determinism). */
export const completionJson = (id: string, model: string, text: string, usage: Usage) => ({
  id,
  object: "chat.completion",
  created: 0,
  model,
  choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
  usage: {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens
  }
})

/**
 * The fault for one chat request, a pure function of the seed, the body's key and how many times the
 * same body came before, so a run's faults do not depend on arrival order or concurrency.
 */
export const decideFault = (options: FaultOptions, key: string, attempt: number): FaultKind | undefined => {
  if (attempt >= (options.maxFaultsPerRequest ?? 3)) return undefined
  const u = unitFromParts("fault", options.faultSeed ?? 0, key, attempt)
  let edge = 0
  for (const [kind, rate] of [
    ["rate429", options.rate429],
    ["rate500", options.rate500],
    ["stall", options.rateStall],
    ["malformed", options.rateMalformed]
  ] as const) {
    edge += Math.max(0, rate ?? 0)
    if (u < edge) return kind
  }
  return undefined
}

const sendJson = (
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {}
) => {
  const text = JSON.stringify(value)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...headers
  })
  res.end(text)
}

const apiError = (message: string, type: string, code: string | null = null) => ({
  error: { message, type, param: null, code }
})

const readBody = (req: IncomingMessage, limit = 16 * 1024 * 1024): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        reject(new BadRequest("body too large"))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * An OpenAI-compatible HTTP server on 127.0.0.1: `POST /v1/chat/completions` (answers from
 * `options.answer`, with optional seeded fault injection), `GET /v1/models`, 404 JSON otherwise.
 */
export const startServer = (options: ServerOptions): Promise<ServerHandle> => {
  const stats = { requests: 0, completions: 0, faults: { rate429: 0, rate500: 0, stall: 0, malformed: 0 } }
  const arrivals: Array<Arrival> = []
  const maxArrivals = Math.max(0, options.maxArrivals ?? 10_000)
  const remember = (arrival: Arrival) => {
    if (maxArrivals === 0) return
    arrivals.push(arrival)
    if (arrivals.length > maxArrivals) arrivals.splice(0, arrivals.length - maxArrivals)
  }
  // Attempt counters are only needed (and only grow) when faults are injected.
  const injecting = [options.rate429, options.rate500, options.rateStall, options.rateMalformed].some(
    (r) => (r ?? 0) > 0
  )
  const attemptsByKey = new Map<string, number>()
  const stallTimers = new Set<NodeJS.Timeout>()
  const models = options.models ?? ["maspo-sim"]
  const retryAfterSeconds = options.retryAfterSeconds ?? 1

  const chat = async (req: IncomingMessage, res: ServerResponse, atMs: number) => {
    const record = (outcome: ArrivalOutcome, key?: string, attempt?: number) =>
      remember({
        atMs,
        method: req.method ?? "",
        path: req.url ?? "",
        ...(key !== undefined ? { key } : {}),
        ...(attempt !== undefined ? { attempt } : {}),
        ...(body !== undefined ? { body } : {}),
        outcome
      })
    let body: unknown
    try {
      const text = await readBody(req)
      body = JSON.parse(text)
    } catch {
      record("bad_request")
      return sendJson(res, 400, apiError("body is not valid JSON", "invalid_request_error"))
    }
    if (options.authToken !== undefined) {
      const auth = req.headers["authorization"] ?? ""
      const presented = auth.replace(/^Bearer\s+/i, "")
      if (presented !== options.authToken) {
        record("unauthorized")
        return sendJson(
          res,
          401,
          apiError(`Incorrect API key provided: ${presented}.`, "invalid_request_error", "invalid_api_key")
        )
      }
    }
    let request: LMRequest
    try {
      request = bodyToRequest(body)
    } catch (e) {
      record("bad_request")
      return sendJson(res, 400, apiError(e instanceof Error ? e.message : String(e), "invalid_request_error"))
    }
    const key = sha256Hex(canonicalJson(body))
    const attempt = injecting ? (attemptsByKey.get(key) ?? 0) : 0
    if (injecting) attemptsByKey.set(key, attempt + 1)
    const fault = decideFault(options, key, attempt)
    record(fault ?? "ok", key, attempt)
    // Latency is a floor on the response time from arrival: the server's own work counts toward it,
    // as a real provider's latency includes its compute.
    const untilLatency = () => {
      const left = (options.latencyMs ?? 0) - (performance.timeOrigin + performance.now() - atMs)
      return left > 0 ? sleep(left) : Promise.resolve()
    }
    if (fault === "rate429" || fault === "rate500") await untilLatency()
    if (fault) stats.faults[fault]++
    switch (fault) {
      case "rate429":
        return sendJson(
          res,
          429,
          apiError("Rate limit reached (injected)", "rate_limit_error", "rate_limit"),
          {
            "retry-after": String(Math.max(0, Math.ceil(retryAfterSeconds))),
            "retry-after-ms": String(Math.round(retryAfterSeconds * 1000))
          }
        )
      case "rate500":
        return sendJson(res, 500, apiError("Internal server error (injected)", "server_error"))
      case "stall": {
        const timer = setTimeout(() => {
          stallTimers.delete(timer)
          res.destroy()
        }, options.stallMs ?? 60_000)
        stallTimers.add(timer)
        res.on("close", () => {
          clearTimeout(timer)
          stallTimers.delete(timer)
        })
        return
      }
      default:
    }
    let answer: ServerAnswer
    try {
      answer = await options.answer(request)
    } catch (e) {
      return sendJson(
        res,
        500,
        apiError(`answer failed: ${e instanceof Error ? e.message : String(e)}`, "server_error")
      )
    }
    const usage = answer.usage ?? {
      promptTokens: messagesTokens(request.messages),
      completionTokens: approxTokens(answer.text)
    }
    const completion = completionJson(`chatcmpl-${key.slice(0, 24)}`, request.model, answer.text, usage)
    await untilLatency()
    if (fault === "malformed") {
      if (unitFromParts("malformed", options.faultSeed ?? 0, key, attempt) < 0.5)
        return sendJson(res, 200, { ...completion, choices: [] })
      const full = JSON.stringify(completion)
      const cut = full.slice(0, Math.floor(full.length / 2))
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(cut))
      })
      return res.end(cut)
    }
    stats.completions++
    return sendJson(res, 200, completion)
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    stats.requests++
    const atMs = performance.timeOrigin + performance.now()
    const path = (req.url ?? "").split("?")[0]
    if (req.method === "POST" && path === "/v1/chat/completions") {
      chat(req, res, atMs).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, apiError(String(e), "server_error"))
        else res.destroy()
      })
      return
    }
    if (req.method === "GET" && path === "/v1/models") {
      remember({ atMs, method: "GET", path: req.url ?? "", outcome: "ok" })
      return sendJson(res, 200, {
        object: "list",
        data: models.map((id) => ({ id, object: "model", created: 0, owned_by: "maspo" }))
      })
    }
    // Not part of the OpenAI API: lets tests and users see what was served and which faults fired.
    if (req.method === "GET" && path === "/maspo/stats")
      return sendJson(res, 200, { ...stats, faults: { ...stats.faults } })
    remember({ atMs, method: req.method ?? "", path: req.url ?? "", outcome: "not_found" })
    req.resume()
    sendJson(res, 404, apiError(`no route ${req.method} ${path}`, "invalid_request_error", "not_found"))
  }

  const server = createServer(handle)
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject)
      const port = (server.address() as AddressInfo).port
      resolve({
        port,
        url: `http://127.0.0.1:${port}/v1`,
        stats: () => ({ ...stats, faults: { ...stats.faults } }),
        arrivals: () => arrivals.slice(),
        close: () =>
          new Promise<void>((done) => {
            for (const t of stallTimers) clearTimeout(t)
            stallTimers.clear()
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    })
  })
}

/** `startServer` as a scoped Effect: the server closes when the scope does. */
export const serverScoped = (options: ServerOptions): Effect.Effect<ServerHandle, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startServer(options)),
    (handle) => Effect.promise(() => handle.close())
  )
