import {
  Budget,
  defaultRoleDefaults,
  InputError,
  LanguageModel,
  type LanguageModelClient,
  type ProviderConfig,
  type Role,
  type RunConfig
} from "@maspo/core"
import { simClients } from "@maspo/core/sim"
import { Effect, Layer } from "effect"

/** Builds one client per role from the run config; a role with no provider gets the simulator. */
export const clientsFor = Effect.fn("clientsFor")(function* (config: RunConfig) {
  const sim = simClients()
  const pick = (
    role: Role,
    provider: ProviderConfig | undefined
  ): Effect.Effect<LanguageModelClient, InputError> =>
    provider === undefined || provider.kind === "sim"
      ? Effect.succeed(sim[role])
      : Effect.fail(
          new InputError({
            source: `providers.${role}`,
            message: `provider kind '${provider.kind}' is not available in this build`
          })
        )
  return {
    agent: yield* pick("agent", config.providers.agent),
    optimizer: yield* pick("optimizer", config.providers.optimizer),
    evaluator: yield* pick("evaluator", config.providers.evaluator)
  }
})

/** LanguageModel + Budget for a run. */
export const languageModelLayer = (config: RunConfig) =>
  Layer.effect(
    LanguageModel,
    Effect.flatMap(clientsFor(config), (clients) =>
      LanguageModel.make(clients, defaultRoleDefaults(config.seed))
    )
  ).pipe(Layer.provideMerge(Budget.layer))
