import { existsSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as path from "node:path"

/** True when `dir` holds the workspace's root package.json (the one declaring `workspaces`). */
const isWorkspaceRoot = (dir: string): boolean => {
  const file = path.join(dir, "package.json")
  if (!existsSync(file)) return false
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { workspaces?: unknown }).workspaces !== undefined
  } catch {
    return false
  }
}

/**
 * The repository root: the nearest ancestor of this module holding the workspace's package.json.
 * Searched for rather than counted, because this module runs from its source file
 * (packages/benchmarks/src/datasets, under tsx or vitest) and from the CLI bundle
 * (node_modules/.cache/maspo/cli.mjs), which sit at different depths. Undefined when no ancestor is
 * the workspace (the module was copied out of a checkout).
 */
export const repoRoot = (from: string = path.dirname(fileURLToPath(import.meta.url))): string | undefined => {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (isWorkspaceRoot(dir)) return dir
    if (path.dirname(dir) === dir) return undefined
  }
}

/**
 * Where the dataset files live: an explicit setting, else env MASPO_DATA_DIR, else
 * `<repo root>/../shared/datasets` (the data sits beside the repository; it is never copied into it).
 * Outside a checkout the default is `../shared/datasets` from the working directory; reading it then
 * fails with an error naming that directory and MASPO_DATA_DIR.
 */
export const resolveDataDir = (explicit?: string | undefined): string => {
  if (explicit !== undefined && explicit !== "") return path.resolve(explicit)
  const env = process.env["MASPO_DATA_DIR"]
  if (env !== undefined && env !== "") return path.resolve(env)
  return path.resolve(repoRoot() ?? ".", "..", "shared", "datasets")
}
