import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The real CLI as a user runs it: `bin/maspo.js` (the bundled CLI, rebuilt when a source changed). */
const bin = fileURLToPath(new URL("../../../bin/maspo.js", import.meta.url))

/** Node's arguments to run `maspo <args>` in a child process (`spawn(process.execPath, cliArgv(...))`). */
export const cliArgv = (args: ReadonlyArray<string>): Array<string> => [bin, ...args]

const spawnCli = (args: ReadonlyArray<string>, options: { cwd: string; env?: NodeJS.ProcessEnv }) =>
  spawn(process.execPath, cliArgv(args), {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"]
  })

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export const runCli = (
  args: ReadonlyArray<string>,
  options: { cwd: string; env?: NodeJS.ProcessEnv }
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawnCli(args, options)
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => (stderr += d))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

export interface Served {
  readonly url: string
  readonly stop: () => Promise<void>
}

/** Starts `maspo serve --port 0 ...` and resolves once it prints its URL. */
export const startServe = (args: ReadonlyArray<string>, options: { cwd: string; env?: NodeJS.ProcessEnv }) =>
  new Promise<Served>((resolve, reject) => {
    const child: ChildProcess = spawnCli(["serve", "--port", "0", ...args], options)
    let out = ""
    let err = ""
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done()
        child.once("exit", () => done())
        child.kill("SIGKILL")
      })
    child.stdout!.on("data", (d) => {
      out += d
      const m = /http:\/\/127\.0\.0\.1:\d+\/v1/.exec(out)
      if (m) resolve({ url: m[0], stop })
    })
    child.stderr!.on("data", (d) => (err += d))
    child.on("exit", (code) => reject(new Error(`maspo serve exited (${code}) before listening: ${err}`)))
  })

/** Every file below `dir`, as paths relative to it (none when it does not exist). */
export const filesUnder = (dir: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((f) => {
        const p = join(dir, f)
        return statSync(p).isDirectory() ? filesUnder(p).map((x) => join(f, x)) : [f]
      })
    : []
