import { Flag } from "effect/cli"

/** Flags shared by several commands; each command states its own defaults in its help text. */
export const seedFlag = Flag.Int("seed").pipe(
  Flag.withDescription("Run seed: every random choice derives from it"),
  Flag.optional
)
export const taskFlag = Flag.String("task").pipe(
  Flag.withDescription("Task name (e.g. arith, math500, aqua)"),
  Flag.optional
)
export const masFlag = Flag.String("mas").pipe(
  Flag.withDescription("Multi-agent topology (e.g. sequential, hierarchical)"),
  Flag.optional
)
export const configFlag = Flag.File("config").pipe(
  Flag.withDescription("Run config JSON file; command-line flags override its fields"),
  Flag.optional
)
export const concurrencyFlag = Flag.Int("concurrency").pipe(
  Flag.withDescription("Questions run at the same time (default 8)"),
  Flag.optional
)
export const outFlag = Flag.String("out").pipe(Flag.withDescription("Output directory"), Flag.optional)

/** Provider and cache settings shared by every command that calls models. */
export const providerFlags = {
  baseUrl: Flag.String("base-url").pipe(
    Flag.withDescription(
      "OpenAI-compatible endpoint for every role (e.g. http://localhost:8000/v1); needs --model"
    ),
    Flag.optional
  ),
  model: Flag.String("model").pipe(
    Flag.withDescription("Model name for every role; switches all roles to the OpenAI-compatible provider"),
    Flag.optional
  ),
  apiKeyEnv: Flag.String("api-key-env").pipe(
    Flag.withDescription(
      "Environment variable holding the API key (the key itself is never written anywhere)"
    ),
    Flag.optional
  ),
  set: Flag.KeyValuePair("set").pipe(
    Flag.withDescription(
      "Override any run config field by its dotted path, e.g. --set providers.evaluator.model=gpt-4o-mini " +
        "--set providers.agent.extraBody.top_k=20 (values are read as JSON when they parse, else as text)"
    ),
    Flag.optional
  ),
  cache: Flag.String("cache").pipe(
    Flag.withDescription(`Call cache file (default ${".maspo/cache/calls.sqlite"})`),
    Flag.optional
  ),
  cacheMode: Flag.Literals("cache-mode", ["read-write", "replay", "record-fresh", "off"]).pipe(
    Flag.withDescription(
      "read-write (default with a real provider), replay (a miss is an error, no network), record-fresh, off (default on the simulator)"
    ),
    Flag.optional
  )
}

/** Where datasets are read from and how they are split. */
export const dataFlags = {
  dataDir: Flag.String("data-dir").pipe(
    Flag.withDescription(
      "Directory holding the datasets (default: $MASPO_DATA_DIR, else ../shared/datasets)"
    ),
    Flag.optional
  ),
  split: Flag.Literals("split", ["heldout", "paper"]).pipe(
    Flag.withDescription(
      "heldout (default): a seeded optimization pool disjoint from the test items; paper: the pool is drawn from the test file and the whole file is tested, as the paper's released code does (for comparison only)"
    ),
    Flag.optional
  ),
  splitSeed: Flag.Int("split-seed").pipe(
    Flag.withDescription("Seed of the pool/test split (default 0, the same for every run seed)"),
    Flag.optional
  )
}
