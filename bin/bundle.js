// The CLI bundled into one ES module with esbuild (its TypeScript sources and the packages it uses,
// tree-shaken), rebuilt whenever a file it was built from is newer or gone, or the installed
// packages changed. Loading one file instead of transpiling and resolving hundreds of modules one by
// one through a loader starts `maspo --help` in ~0.2 s instead of ~1.5 s. Only better-sqlite3 (a
// native addon) stays external.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const entry = join(root, "packages/cli/src/main.ts")
const dir = join(root, "node_modules/.cache/maspo")
export const bundlePath = join(dir, "cli.mjs")
const inputsPath = join(dir, "cli.inputs.json")

/** True when the bundle is missing or any source it was built from changed or disappeared. */
const stale = () => {
  if (!existsSync(bundlePath) || !existsSync(inputsPath)) return true
  const builtAt = statSync(bundlePath).mtimeMs
  let inputs
  try {
    inputs = JSON.parse(readFileSync(inputsPath, "utf8"))
  } catch {
    return true
  }
  for (const file of inputs) {
    let s
    try {
      s = statSync(join(root, file))
    } catch {
      return true
    }
    if (s.mtimeMs >= builtAt) return true
  }
  return false
}

// npm rewrites these on every install: a rebuilt dependency means a rebuilt bundle.
const INSTALL_STAMPS = ["package-lock.json", "node_modules/.package-lock.json"]

/** Writes `text` to `path` through a temp file and a rename, so a reader never sees half a file. */
const writeAtomic = (path, text) => {
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}

/** Builds the bundle if it is stale; returns its path. Safe with several processes building at once. */
export const ensureBundle = async () => {
  if (!stale()) return bundlePath
  // Stamped with the time the build started: a source saved during the build is newer, so it counts.
  const startedAt = new Date()
  const { build } = await import("esbuild")
  // better-sqlite3 is installed under packages/core, where the bundle would not find it by name.
  const sqlite = createRequire(join(root, "packages/core/package.json")).resolve("better-sqlite3")
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outfile: bundlePath,
    write: false,
    // Maps are written for `MASPO_SOURCE_MAPS=1` (bin/maspo.js); reading them costs start-up time.
    sourcemap: "linked",
    sourcesContent: false,
    metafile: true,
    logLevel: "error",
    alias: { "better-sqlite3": sqlite },
    external: [sqlite],
    // CommonJS dependencies inside an ES module bundle call `require`.
    banner: {
      js: 'import { createRequire as __maspoRequire } from "node:module"; const require = __maspoRequire(import.meta.url);'
    }
  })
  mkdirSync(dir, { recursive: true })
  const modules = join(root, "node_modules")
  const inputs = Object.keys(result.metafile.inputs)
    .map((f) => resolve(root, f))
    .filter((f) => !f.startsWith(modules))
    .map((f) => f.slice(root.length + 1))
    .concat(INSTALL_STAMPS.filter((f) => existsSync(join(root, f))))
  writeAtomic(inputsPath, JSON.stringify(inputs))
  // The map first, then the code that points to it.
  const files = [...result.outputFiles].sort((a, b) =>
    a.path.endsWith(".map") ? -1 : b.path.endsWith(".map") ? 1 : 0
  )
  for (const f of files) writeAtomic(f.path, f.contents)
  utimesSync(bundlePath, startedAt, startedAt)
  return bundlePath
}
