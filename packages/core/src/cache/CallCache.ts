import { Context, Effect, Layer } from "effect"
import type { LanguageModelClient } from "../LanguageModel.ts"
import { type CacheError, type CallStore, scopedCallStore } from "./CallStore.ts"
import type { ExtraBody } from "./key.ts"
import { replaySnapshot } from "./replaySnapshot.ts"
import { type CacheMode, withCache, type WithCacheOptions } from "./withCache.ts"

export interface CallCacheOptions {
  /**
   * The datasets whose items the calls of this run are about, recorded in the store (not in replay
   * mode): an export for publishing must withhold the requests quoting a protected one's texts.
   */
  readonly datasets?: ReadonlyArray<string>
}

/**
 * The call cache of a run: one store file and one mode, wrapping any number of clients (one per
 * role). In `off` mode the file is not even opened and `wrap` returns the client unchanged.
 */
export class CallCache extends Context.Service<
  CallCache,
  {
    readonly path: string
    readonly mode: CacheMode
    readonly wrap: (
      client: LanguageModelClient,
      extraBody?: ExtraBody,
      options?: WithCacheOptions
    ) => LanguageModelClient
    /** Number of stored answers (0 in `off` mode). */
    readonly count: Effect.Effect<number, CacheError>
  }
>()("@maspo/core/cache/CallCache") {
  /**
   * Opens the store at `path` (creating it and its directory); closes it when the layer is released.
   * In `replay` mode `path` may also be a published export (`.jsonl.gz`), replayed without an import.
   */
  static readonly layer = (path: string, mode: CacheMode = "read-write", options: CallCacheOptions = {}) =>
    Layer.effect(
      CallCache,
      Effect.gen(function* () {
        if (mode === "off") {
          return CallCache.of({ path, mode, wrap: (client) => client, count: Effect.succeed(0) })
        }
        // A replay only reads: it is served from an in-memory snapshot (of a SQLite file or of an
        // export), shared by every run of the process over the same unchanged file.
        const store: CallStore =
          mode === "replay" ? yield* replaySnapshot(path) : yield* scopedCallStore(path)
        if (mode !== "replay" && options.datasets !== undefined && options.datasets.length > 0)
          yield* store.recordDatasets(options.datasets)
        return CallCache.of({
          path,
          mode,
          wrap: (client, extraBody, options) => withCache(client, store, mode, extraBody, options),
          count: store.count
        })
      })
    )
}
