import { Context, Effect, Layer, Schema } from "effect"
import { Budget, type BudgetExhausted } from "./Budget.ts"
import { promptTokenBound } from "./BudgetGate.ts"
import type { Role } from "./Role.ts"

export const Message = Schema.Struct({
  role: Schema.Literals(["system", "user", "assistant"]),
  content: Schema.String
})
export type Message = typeof Message.Type

/** Everything that can change a model's answer. The cache key is a hash of exactly this. */
export const LMRequest = Schema.Struct({
  messages: Schema.Array(Message),
  model: Schema.String,
  temperature: Schema.Number,
  maxTokens: Schema.Number,
  seed: Schema.Number,
  /** Distinguishes repeated samples of the same request (self-consistency, re-runs). */
  sampleIndex: Schema.Number
})
export type LMRequest = typeof LMRequest.Type

export const Usage = Schema.Struct({
  promptTokens: Schema.Number,
  completionTokens: Schema.Number
})
export type Usage = typeof Usage.Type

export const LMResponse = Schema.Struct({
  text: Schema.String,
  usage: Usage,
  /** Set by the call cache when the response was served from disk rather than a live call. */
  cached: Schema.optional(Schema.Boolean)
})
export type LMResponse = typeof LMResponse.Type

export class LanguageModelError extends Schema.TaggedError<LanguageModelError>()("LanguageModelError", {
  role: Schema.String,
  message: Schema.String,
  cacheKey: Schema.optional(Schema.String)
}) {}

/** What a call through `LanguageModel.generate` can fail with: the provider, or the budget cap refusing it. */
export type ModelCallError = LanguageModelError | BudgetExhausted

/** One provider configured for one role. */
export interface LanguageModelClient {
  readonly provider: string
  readonly model: string
  readonly generate: (request: LMRequest) => Effect.Effect<LMResponse, LanguageModelError>
  /**
   * The most this request can cost, a function of the request alone (a budget cap is checked against
   * it before the call is sent). Absent: `defaultUsageBound`.
   */
  readonly usageBound?: (request: LMRequest) => Effect.Effect<Usage, LanguageModelError>
  /**
   * True when `usageBound` is the exact usage `generate` reports (the simulator): the call cache may
   * then bound a hit by its stored usage, which is the same figure, without running the client.
   */
  readonly exactUsage?: boolean
}

/**
 * Bound of a call to a provider whose usage is unknown before the call: the prompt's UTF-8 bytes plus
 * chat-template allowances (`promptTokenBound`), plus the request's `maxTokens`, which providers
 * enforce on the completion.
 */
export const defaultUsageBound = (request: LMRequest): Usage => ({
  promptTokens: promptTokenBound(request.messages),
  completionTokens: Math.max(0, request.maxTokens)
})

/**
 * A client whose response is a pure function of the request (the simulator, the dataset oracle):
 * the response is computed once per request object, and its usage is the exact bound.
 */
export const pureClient = (
  provider: string,
  model: string,
  respond: (request: LMRequest) => LMResponse
): LanguageModelClient => {
  const memo = new WeakMap<LMRequest, LMResponse>()
  const answer = (request: LMRequest): LMResponse => {
    const known = memo.get(request)
    if (known !== undefined) return known
    const response = respond(request)
    memo.set(request, response)
    return response
  }
  return {
    provider,
    model,
    exactUsage: true,
    usageBound: (request) => Effect.sync(() => answer(request).usage),
    generate: (request) => Effect.sync(() => answer(request))
  }
}

/** Per-role defaults applied to every call of that role. */
export interface RoleDefaults {
  readonly temperature: number
  readonly maxTokens: number
  readonly seed: number
  /** The provider config set these, so a template's own settings do not replace them. */
  readonly fixedTemperature?: boolean
  readonly fixedMaxTokens?: boolean
}

/** What a caller asks for; the service fills in the role's model and defaults. */
export interface LMCall {
  readonly messages: ReadonlyArray<Message>
  readonly sampleIndex?: number
  readonly temperature?: number
  readonly maxTokens?: number
  /** A request template's settings: used unless the call or the role's provider config sets one. */
  readonly templateTemperature?: number
  readonly templateMaxTokens?: number
}

export type RoleClients = { readonly [R in Role]: LanguageModelClient }
export type RoleDefaultsByRole = { readonly [R in Role]: RoleDefaults }

export const defaultRoleDefaults = (seed: number): RoleDefaultsByRole => ({
  agent: { temperature: 0, maxTokens: 2048, seed },
  optimizer: { temperature: 0.7, maxTokens: 2048, seed },
  evaluator: { temperature: 0, maxTokens: 16, seed }
})

/**
 * The LLM access point of a run: one client per role. Every call goes through `generate`, which
 * reserves it in the Budget before sending it (refused with `BudgetExhausted` when a cap is in force
 * and the call could cross it) and records its real usage after, so no call escapes the accounting.
 */
export class LanguageModel extends Context.Service<
  LanguageModel,
  {
    readonly client: (role: Role) => LanguageModelClient
    readonly generate: (role: Role, call: LMCall) => Effect.Effect<LMResponse, ModelCallError>
  }
>()("@maspo/core/LanguageModel") {
  static readonly make = (clients: RoleClients, defaults: RoleDefaultsByRole) =>
    Effect.gen(function* () {
      const budget = yield* Budget
      const generate = Effect.fn("LanguageModel.generate")(function* (role: Role, call: LMCall) {
        const client = clients[role]
        const d = defaults[role]
        const request: LMRequest = {
          messages: call.messages,
          model: client.model,
          temperature:
            call.temperature ??
            (d.fixedTemperature ? d.temperature : (call.templateTemperature ?? d.temperature)),
          maxTokens:
            call.maxTokens ?? (d.fixedMaxTokens ? d.maxTokens : (call.templateMaxTokens ?? d.maxTokens)),
          seed: d.seed,
          sampleIndex: call.sampleIndex ?? 0
        }
        // Under a cap the Budget reserves the call with its bound before it is sent and settles it
        // with the real usage after; a call that fails or is interrupted gives its reservation back
        // (a refusal closed the gate, so nothing else can use it).
        return yield* budget.call(
          role,
          client.usageBound ? client.usageBound(request) : Effect.sync(() => defaultUsageBound(request)),
          client.generate(request)
        )
      })
      return LanguageModel.of({ client: (role) => clients[role], generate })
    })

  /** A layer from explicit clients; needs a Budget. */
  static readonly layer = (clients: RoleClients, defaults: RoleDefaultsByRole) =>
    Layer.effect(LanguageModel, LanguageModel.make(clients, defaults))
}

/** Rough token count for providers that report none (the simulator): ~4 characters a token. */
export const approxTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4))

export const messagesTokens = (messages: ReadonlyArray<Message>): number =>
  messages.reduce((n, m) => n + approxTokens(m.content) + 4, 0)
