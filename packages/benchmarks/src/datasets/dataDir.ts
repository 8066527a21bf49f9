import { fileURLToPath } from "node:url"
import * as path from "node:path"

/** The repository root, computed from this module's location (packages/benchmarks/src/datasets). */
export const repoRoot = (): string =>
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..")

/**
 * Where the dataset files live: an explicit setting, else env MASPO_DATA_DIR, else
 * `<repo root>/../shared/datasets` (the data sits beside the repository; it is never copied into it).
 */
export const resolveDataDir = (explicit?: string | undefined): string => {
  if (explicit !== undefined && explicit !== "") return path.resolve(explicit)
  const env = process.env["MASPO_DATA_DIR"]
  if (env !== undefined && env !== "") return path.resolve(env)
  return path.resolve(repoRoot(), "..", "shared", "datasets")
}
