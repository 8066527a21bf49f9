import { describe, expect, it } from "@effect/vitest"
import { readFileSync, statSync, utimesSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { runCli } from "./cliProcess.ts"

/** `bin/maspo.js` runs a bundle of the sources: an edited source must be in the next run's bundle. */

const root = fileURLToPath(new URL("../../../", import.meta.url))
const bundle = `${root}node_modules/.cache/maspo/cli.mjs`
const source = `${root}packages/core/src/random.ts`

const help = async () => {
  const r = await runCli(["--help"], { cwd: root })
  expect(r.code).toBe(0)
  expect(r.stdout).toContain("maspo")
  return statSync(bundle).mtimeMs
}

describe("bin/maspo.js bundle", () => {
  it("is rebuilt after a source changes, and only then", async () => {
    await help()
    const inputs = JSON.parse(readFileSync(`${root}node_modules/.cache/maspo/cli.inputs.json`, "utf8"))
    expect(inputs).toContain("packages/core/src/random.ts")
    expect(inputs).toContain("packages/cli/src/main.ts")
    // Saving a file (same content, new modification time) makes the bundle stale.
    const saved = new Date()
    utimesSync(source, saved, saved)
    const rebuilt = await help()
    expect(rebuilt).toBeGreaterThanOrEqual(saved.getTime())
    expect(await help()).toBe(rebuilt)
  }, 60_000)
})
