/** Child processes for the macro benchmarks: the real CLI (as users run it) and `maspo serve`. */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath, pathToFileURL } from "node:url"
import { startServe as startServeCli } from "../packages/cli/test/cliProcess.ts"

const require = createRequire(import.meta.url)
const MAIN = fileURLToPath(new URL("../packages/cli/src/main.ts", import.meta.url))
const IN_PROCESS = fileURLToPath(new URL("./optimizeInProcess.ts", import.meta.url))
const TSX = pathToFileURL(require.resolve("tsx/esm")).href
const TIME = "/usr/bin/time"

export interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** Wall time of the whole child process, start-up included. */
  readonly wallMs: number
  /** Peak RSS from `/usr/bin/time -v`, when available. */
  readonly maxRssKiB?: number
}

export const hasGnuTime = existsSync(TIME)

const run = (command: string, args: ReadonlyArray<string>, cwd: string, env?: NodeJS.ProcessEnv) =>
  new Promise<Finished>((resolve, reject) => {
    const start = performance.now()
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => {
      const wallMs = performance.now() - start
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1]
      resolve({ code, stdout, stderr, wallMs, ...(rss !== undefined ? { maxRssKiB: Number(rss) } : {}) })
    })
  })

const nodeArgs = (script: string, args: ReadonlyArray<string>) => ["--import", TSX, script, ...args]

/** `maspo <args>` in a child process, under `/usr/bin/time -v` when it exists (for the peak RSS). */
export const runCli = (args: ReadonlyArray<string>, cwd: string, env?: NodeJS.ProcessEnv) =>
  hasGnuTime
    ? run(TIME, ["-v", process.execPath, ...nodeArgs(MAIN, args)], cwd, env)
    : run(process.execPath, nodeArgs(MAIN, args), cwd, env)

/** `maspo optimize <args>` inside one child process; its own timing excludes start-up. */
export const runOptimizeInProcess = async (args: ReadonlyArray<string>, cwd: string) => {
  const done = await run(process.execPath, nodeArgs(IN_PROCESS, args), cwd)
  const line = /BENCH_RESULT (.*)/.exec(done.stdout)?.[1]
  if (done.code !== 0 || line === undefined)
    throw new Error(`in-process optimize failed (${done.code}): ${done.stderr.slice(-2000)}`)
  return {
    ...done,
    ...(JSON.parse(line) as { wallMs: number; maxRssKiB: number }),
    processWallMs: done.wallMs
  }
}

export type { Served } from "../packages/cli/test/cliProcess.ts"

/** Starts `maspo serve --port 0 <args>` and resolves with its URL once it listens. */
export const startServe = (args: ReadonlyArray<string>, cwd: string) => startServeCli(args, { cwd })
