import { afterAll, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { runCli } from "./cliProcess.ts"

/**
 * The default data directory as a fresh clone sees it: `maspo` run from the bundle, from a working
 * directory outside the repository, with MASPO_DATA_DIR unset, reads `<repo root>/../shared/datasets`
 * (where CI and every worktree keep the data). The directory is checked by name, not only by the run
 * succeeding: a wrong root can still find some other `shared/datasets` higher up.
 */

const root = fileURLToPath(new URL("../../..", import.meta.url))
const work = mkdtempSync(join(tmpdir(), "maspo-data-dir-"))
afterAll(() => rmSync(work, { recursive: true, force: true }))

const noDataEnv = { MASPO_DATA_DIR: undefined }

describe("default data directory", () => {
  it("is <repo root>/../shared/datasets from the bundle, whatever the working directory", async () => {
    const r = await runCli(["eval", "--task", "math500", "--mas", "sequential", "--n", "2"], {
      cwd: work,
      env: noDataEnv
    })
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/math500 \/ sequential: accuracy [\d.]+% \(\d\/2\)/)
    const summary = JSON.parse(
      readFileSync(join(work, ".maspo/runs/eval-math500-sequential-seed0/summary.json"), "utf8")
    ) as { split: { dataDir: string } }
    expect(summary.split.dataDir).toBe(resolve(root, "../shared/datasets"))
  }, 120_000)

  it("MASPO_DATA_DIR and then --data-dir win over it, and a wrong one is named in the error", async () => {
    const args = ["eval", "--task", "math500", "--mas", "sequential", "--n", "2"]
    const env = await runCli(args, { cwd: work, env: { MASPO_DATA_DIR: join(work, "from-env") } })
    expect(env.code).not.toBe(0)
    expect(env.stderr).toContain(`cannot read ${join(work, "from-env")}/`)
    const flag = await runCli([...args, "--data-dir", "from-flag"], {
      cwd: work,
      env: { MASPO_DATA_DIR: join(work, "from-env") }
    })
    expect(flag.code).not.toBe(0)
    expect(flag.stderr).toContain(`cannot read ${join(work, "from-flag")}/`)
  }, 120_000)
})
