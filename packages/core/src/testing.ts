import { Effect, Layer } from "effect"
import { Budget } from "./Budget.ts"
import {
  approxTokens,
  defaultRoleDefaults,
  LanguageModel,
  type LanguageModelClient,
  LanguageModelError,
  type LMRequest,
  messagesTokens,
  type RoleClients
} from "./LanguageModel.ts"
import type { Role } from "./Role.ts"

/** A reply function for scripted tests: text, or an Effect for replies that wait or fail. */
export type ScriptedReply = (
  request: LMRequest,
  role: Role
) => string | Effect.Effect<string, LanguageModelError>

/** A client whose replies a test script decides; used to pin logic and count calls. */
export const scriptedClient = (
  role: Role,
  reply: ScriptedReply,
  model = "scripted"
): LanguageModelClient => ({
  provider: "scripted",
  model,
  generate: (request) => {
    const out = reply(request, role)
    return (typeof out === "string" ? Effect.succeed(out) : out).pipe(
      Effect.map((text) => ({
        text,
        usage: { promptTokens: messagesTokens(request.messages), completionTokens: approxTokens(text) }
      }))
    )
  }
})

export const scriptedClients = (reply: ScriptedReply): RoleClients => ({
  agent: scriptedClient("agent", reply),
  optimizer: scriptedClient("optimizer", reply),
  evaluator: scriptedClient("evaluator", reply)
})

/** LanguageModel + Budget from one script. */
export const scriptedLanguageModel = (reply: ScriptedReply, seed = 0) =>
  LanguageModel.layer(scriptedClients(reply), defaultRoleDefaults(seed)).pipe(
    Layer.provideMerge(Budget.layer)
  )

export const failReply = (role: Role, message: string) =>
  Effect.fail(new LanguageModelError({ role, message }))
