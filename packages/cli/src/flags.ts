import { defaultRunConfig } from "@maspo/core"
import { CACHE_MODES } from "@maspo/core/cache"
import { DEFAULT_SPLIT_SEED } from "@maspo/benchmarks"
import { Flag } from "effect/cli"
import { defaultNote, defaultWhen, noDefault } from "./help.ts"
import { DEFAULT_CACHE_PATH, OPENAI_BASE_URL } from "./providers.ts"
import { describeTopologies, TASK_NAMES } from "./registry.ts"

/** Flags shared by several commands; every help text states the default (see help.ts). */
export const seedFlag = Flag.Int("seed").pipe(
  Flag.withDescription(defaultNote("Run seed: every random choice derives from it", defaultRunConfig.seed)),
  Flag.optional
)
export const taskFlag = Flag.String("task").pipe(
  Flag.withDescription(defaultNote(`Task: ${TASK_NAMES.join(", ")}`, defaultRunConfig.task)),
  Flag.optional
)
export const masFlag = Flag.String("mas").pipe(
  Flag.withDescription(
    defaultNote(
      `Multi-agent topology or single-agent row, per task: ${describeTopologies()}`,
      defaultRunConfig.topology
    )
  ),
  Flag.optional
)
export const configFlag = Flag.File("config").pipe(
  Flag.withDescription(
    noDefault(
      "Run config JSON file; command-line flags override its fields",
      "built-in defaults and the flags"
    )
  ),
  Flag.optional
)
export const concurrencyFlag = Flag.Int("concurrency").pipe(
  Flag.withDescription(defaultNote("Questions run at the same time", defaultRunConfig.concurrency)),
  Flag.optional
)

/** Provider and cache settings shared by every command that calls models. */
export const providerFlags = {
  baseUrl: Flag.String("base-url").pipe(
    Flag.withDescription(
      defaultWhen(
        "OpenAI-compatible endpoint for every role (e.g. http://localhost:8000/v1)",
        `${OPENAI_BASE_URL} when --model is given`
      )
    ),
    Flag.optional
  ),
  model: Flag.String("model").pipe(
    Flag.withDescription(
      noDefault(
        "Model name for every role; switches all roles to the OpenAI-compatible provider",
        "every role runs on the embedded simulator"
      )
    ),
    Flag.optional
  ),
  apiKeyEnv: Flag.String("api-key-env").pipe(
    Flag.withDescription(
      defaultWhen(
        "Environment variable holding the API key (the key itself is never written anywhere)",
        `OPENAI_API_KEY for ${OPENAI_BASE_URL}, no key elsewhere`
      )
    ),
    Flag.optional
  ),
  set: Flag.KeyValuePair("set").pipe(
    Flag.withDescription(
      noDefault(
        "Override any run config field by its dotted path, e.g. --set providers.evaluator.model=gpt-4o-mini " +
          "--set providers.agent.extraBody.top_k=20 (values are read as JSON when they parse, else as text)",
        "no override"
      )
    ),
    Flag.optional
  ),
  cache: Flag.String("cache").pipe(
    Flag.withDescription(defaultNote("Call cache file", DEFAULT_CACHE_PATH)),
    Flag.optional
  ),
  cacheMode: Flag.Literals("cache-mode", CACHE_MODES).pipe(
    Flag.withDescription(
      defaultWhen(
        "read-write, replay (a miss is an error, no network), record-fresh, off",
        "read-write when a role calls a real provider, off when only the simulator runs"
      )
    ),
    Flag.optional
  )
}

/** Where datasets are read from and how they are split. */
export const dataFlags = {
  dataDir: Flag.String("data-dir").pipe(
    Flag.withDescription("Directory holding the datasets (default $MASPO_DATA_DIR, else ../shared/datasets)"),
    Flag.optional
  ),
  split: Flag.Literals("split", ["heldout", "paper"]).pipe(
    Flag.withDescription(
      defaultNote(
        "heldout: a seeded optimization pool disjoint from the test items; paper: the pool is drawn from the test file and the whole file is tested, as the paper's released code does (for comparison only)",
        "heldout"
      )
    ),
    Flag.optional
  ),
  splitSeed: Flag.Int("split-seed").pipe(
    Flag.withDescription(
      defaultNote("Seed of the pool/test split, the same for every run seed", DEFAULT_SPLIT_SEED)
    ),
    Flag.optional
  )
}
