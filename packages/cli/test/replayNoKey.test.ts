import { afterAll, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runCli, type Served, startServe } from "./cliProcess.ts"

/** `--cache-mode replay` makes no network call, so it never asks for the provider's API key. */

const work = mkdtempSync(join(tmpdir(), "maspo-replay-nokey-"))
const KEY_ENV = "MASPO_TEST_REPLAY_KEY"
const servers: Array<Served> = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()))
  rmSync(work, { recursive: true, force: true })
})

const evalArgs = (url: string, cache: string, mode: string, out: string) => [
  ...["eval", "--task", "arith", "--mas", "sequential", "--n", "6", "--seed", "3"],
  ...["--model", "maspo-sim-1", "--base-url", url, "--api-key-env", KEY_ENV],
  ...["--cache", cache, "--cache-mode", mode, "--out", out]
]

describe("replay without an API key", () => {
  it("an openai provider whose key variable is unset replays from the cache", async () => {
    // The recording needs the key; the replay runs with the variable unset and the server gone.
    expect(process.env[KEY_ENV]).toBeUndefined()
    const server = await startServe(["--api-key-env", KEY_ENV], {
      cwd: work,
      env: { [KEY_ENV]: "sk-test-1" }
    })
    servers.push(server)
    const cache = join(work, "calls.sqlite")
    const live = await runCli(evalArgs(server.url, cache, "read-write", join(work, "live")), {
      cwd: work,
      env: { [KEY_ENV]: "sk-test-1" }
    })
    expect(live.stderr).toBe("")
    expect(live.code).toBe(0)
    await server.stop()

    // Without the key and without replay, the run fails on the missing variable (so the replay
    // below passes because replay does not need it, not because the variable leaked in).
    const noKey = await runCli(evalArgs(server.url, cache, "read-write", join(work, "nokey")), { cwd: work })
    expect(noKey.code).toBe(1)
    expect(noKey.stderr).toContain(`environment variable ${KEY_ENV} is not set`)

    const replay = await runCli(evalArgs(server.url, cache, "replay", join(work, "replay")), { cwd: work })
    expect(replay.stderr).toBe("")
    expect(replay.code).toBe(0)
    expect(replay.stdout).toMatch(/live\s+0\s/)
    // The same answers; only the live/hit split of the budget differs.
    const summary = (dir: string) =>
      readFileSync(join(work, dir, "summary.json"), "utf8").replace(
        /"(liveCalls|cacheHits)":\s*\d+/g,
        '"$1":0'
      )
    expect(summary("replay")).toBe(summary("live"))
  }, 120_000)
})
