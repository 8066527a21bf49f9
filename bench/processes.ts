/** Child processes for the macro benchmarks: the real CLI (as users run it) and `maspo serve`. */
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { cliArgv, startServe as startServeCli } from "../packages/cli/test/cliProcess.ts"

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

/**
 * `maspo <args>` in a child process as users run it (`bin/maspo.js`), under `/usr/bin/time -v` when
 * it exists (for the peak RSS).
 */
export const runCli = (args: ReadonlyArray<string>, cwd: string, env?: NodeJS.ProcessEnv) =>
  hasGnuTime
    ? run(TIME, ["-v", process.execPath, ...cliArgv(args)], cwd, env)
    : run(process.execPath, cliArgv(args), cwd, env)

export type { Served } from "../packages/cli/test/cliProcess.ts"

/** Starts `maspo serve --port 0 <args>` and resolves with its URL once it listens. */
export const startServe = (args: ReadonlyArray<string>, cwd: string) => startServeCli(args, { cwd })
