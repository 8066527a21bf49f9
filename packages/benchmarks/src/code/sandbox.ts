import { type ChildProcessWithoutNullStreams, execFile, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmod, lstat, mkdtemp, readdir, rm, writeFile } from "node:fs/promises"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Semaphore } from "effect"
import { HARNESS, MARKER_PREFIX, SETUP_ERROR_EXIT, SETUP_ERROR_PREFIX } from "./harness.ts"

/**
 * - `passed`: exit code 0, the completion marker with this run's nonce printed, not timed out
 * - `failed`: the program ran and did not pass (exception, failed assert, early exit, killed by a limit)
 * - `timeout`: killed at the wall-clock limit (or by the CPU-time limit)
 * - `output-limit`: stdout + stderr exceeded `maxOutputBytes`; killed
 * - `error`: the sandbox itself could not run the program (no interpreter, temp dir, limits)
 */
export type SandboxStatus = "passed" | "failed" | "timeout" | "error" | "output-limit"

export interface SandboxResult {
  readonly status: SandboxStatus
  /** The interpreter's exit code; null when it was killed by a signal or never started. */
  readonly exitCode: number | null
  /** The signal that ended the process (e.g. "SIGKILL" after a timeout), if any. */
  readonly signal: string | null
  /** The program's stdout without the completion marker, cut to its first `RESULT_TEXT_LIMIT` characters. */
  readonly stdout: string
  /** The last `RESULT_TEXT_LIMIT` characters of stderr (tracebacks end there). */
  readonly stderr: string
  readonly durationMs: number
}

export interface RunOptions {
  /** Wall-clock limit; the CPU-time rlimit is this rounded up plus one second. Default 5000. */
  readonly timeoutMs?: number
  /** Address-space limit (RLIMIT_AS). Default 512. */
  readonly memoryMb?: number
  /** Total stdout + stderr bytes before the run is killed as `output-limit`. Default 65536. */
  readonly maxOutputBytes?: number
}

export interface SandboxConfig {
  /** How many programs may run at once. Default `os.availableParallelism()`. */
  readonly concurrency?: number
  /** The interpreter. Default: env MASPO_PYTHON, else `python3` resolved once to its real executable. */
  readonly python?: string
}

export interface Sandbox {
  readonly concurrency: number
  /** Runs one program in a fresh temporary directory. Never fails: problems are a result status. */
  readonly runPython: (program: string, options?: RunOptions) => Effect.Effect<SandboxResult>
}

export const DEFAULT_RUN_OPTIONS = { timeoutMs: 5000, memoryMb: 512, maxOutputBytes: 65536 } as const
export const RESULT_TEXT_LIMIT = 8192
/** RLIMIT_FSIZE: the largest file the program may write (in its own directory). */
export const FILE_SIZE_LIMIT = 10 * 1024 * 1024
/** RLIMIT_NPROC headroom above the processes the user already owns (not enforced for root). */
export const NPROC_HEADROOM = 16
const TEMP_PREFIX = "maspo-sandbox-"

/**
 * The interpreter's environment: nothing inherited but PATH (no proxies, tokens or HOME). HOME and
 * TMPDIR point into the run's directory so libraries that write there stay inside it.
 */
const childEnv = (dir: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
  HOME: dir,
  TMPDIR: dir,
  PYTHONHASHSEED: "0",
  PYTHONDONTWRITEBYTECODE: "1",
  PYTHONIOENCODING: "utf-8",
  PYTHONUTF8: "1"
})

/** `python3` may be a shell shim (pyenv) costing ~50 ms a start; resolve the real binary once. */
const resolvePython = (command: string): Promise<string> =>
  new Promise((resolve) => {
    execFile(
      command,
      ["-S", "-c", "import sys; sys.stdout.write(sys.executable)"],
      { timeout: 30_000 },
      (error, stdout) => resolve(error || stdout.trim() === "" ? command : stdout.trim())
    )
  })

interface Outcome {
  readonly spawnError?: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  readonly overflow: boolean
  readonly stdout: Buffer
  readonly stderr: Buffer
}

interface Limits {
  readonly timeoutMs: number
  readonly memoryMb: number
  readonly maxOutputBytes: number
}

/** Starts the harness; calls `done` exactly once. The returned function kills the process group. */
const startProcess = (
  python: string,
  dir: string,
  programPath: string,
  nonce: string,
  limits: Limits,
  done: (outcome: Outcome) => void
): (() => void) => {
  const cpuSeconds = Math.ceil(limits.timeoutMs / 1000) + 1
  const args = [
    "-S", // no site: no site-packages, no .pth files
    "-s", // no user site
    "-P", // no script directory on sys.path
    "-B", // no .pyc writes
    "-c",
    HARNESS,
    programPath,
    String(limits.memoryMb * 1024 * 1024),
    String(cpuSeconds),
    String(FILE_SIZE_LIMIT),
    String(NPROC_HEADROOM)
  ]
  const stdout: Array<Buffer> = []
  const stderr: Array<Buffer> = []
  let outBytes = 0
  let timedOut = false
  let overflow = false
  let finished = false
  let exitGrace: NodeJS.Timeout | undefined
  let child: ChildProcessWithoutNullStreams
  try {
    child = spawn(python, args, { cwd: dir, env: childEnv(dir), detached: true, stdio: "pipe" })
  } catch (e) {
    done({
      spawnError: String(e),
      exitCode: null,
      signal: null,
      timedOut: false,
      overflow: false,
      stdout: Buffer.alloc(0),
      stderr: Buffer.alloc(0)
    })
    return () => {}
  }
  // The group id is the child's pid (detached => setsid). Killing the group also reaches anything
  // the program managed to start despite the audit hook.
  const killGroup = () => {
    if (child.pid === undefined) return
    try {
      process.kill(-child.pid, "SIGKILL")
    } catch {
      // already gone
    }
  }
  const finish = (exitCode: number | null, signal: string | null, spawnError?: string) => {
    if (finished) return
    finished = true
    clearTimeout(timer)
    if (exitGrace !== undefined) clearTimeout(exitGrace)
    killGroup()
    child.stdout.destroy()
    child.stderr.destroy()
    done({
      ...(spawnError === undefined ? {} : { spawnError }),
      exitCode,
      signal,
      timedOut,
      overflow,
      stdout: Buffer.concat(stdout),
      stderr: Buffer.concat(stderr)
    })
  }
  const timer = setTimeout(() => {
    timedOut = true
    killGroup()
  }, limits.timeoutMs)
  const collect = (into: Array<Buffer>) => (chunk: Buffer) => {
    if (overflow) return
    const room = limits.maxOutputBytes - outBytes
    outBytes += chunk.length
    if (chunk.length > room) {
      overflow = true
      if (room > 0) into.push(chunk.subarray(0, room))
      killGroup()
      child.stdout.destroy()
      child.stderr.destroy()
    } else into.push(chunk)
  }
  child.stdout.on("data", collect(stdout))
  child.stderr.on("data", collect(stderr))
  child.stdout.on("error", () => {})
  child.stderr.on("error", () => {})
  child.stdin.on("error", () => {}) // EPIPE when the process dies before reading the nonce
  child.on("error", (e) => finish(null, null, String(e)))
  child.on("close", (code, signal) => finish(code, signal))
  // A descendant that escaped the group could hold the pipes open and delay "close" forever.
  child.on("exit", (code, signal) => {
    exitGrace = setTimeout(() => finish(code, signal), 2000)
  })
  child.stdin.end(`${nonce}\n`)
  return () => {
    timedOut = true
    killGroup()
  }
}

/** Removes the run directory even if the program made parts of it unreadable (chmod 0). */
const removeTree = async (dir: string): Promise<void> => {
  try {
    await rm(dir, { recursive: true, force: true, maxRetries: 2 })
    return
  } catch {
    // fall through: restore permissions and retry
  }
  const unlock = async (path: string): Promise<void> => {
    const st = await lstat(path).catch(() => undefined)
    if (!st || !st.isDirectory()) return
    await chmod(path, 0o700).catch(() => {})
    const entries = await readdir(path).catch(() => [] as Array<string>)
    for (const e of entries) await unlock(join(path, e))
  }
  await unlock(dir)
  await rm(dir, { recursive: true, force: true, maxRetries: 2 }).catch(() => {})
}

const cutHead = (text: string): string =>
  text.length > RESULT_TEXT_LIMIT ? text.slice(0, RESULT_TEXT_LIMIT) : text
const cutTail = (text: string): string =>
  text.length > RESULT_TEXT_LIMIT ? text.slice(text.length - RESULT_TEXT_LIMIT) : text

/** Maps a finished process to a result. */
const classify = (outcome: Outcome, nonce: string, durationMs: number): SandboxResult => {
  // The harness writes the marker last and exits at once, so it must end stdout.
  const marker = `\n${MARKER_PREFIX}${nonce}\n`
  const out = outcome.stdout.toString("utf8")
  const err = outcome.stderr.toString("utf8")
  const completed = out.endsWith(marker)
  const stdout = completed ? out.slice(0, out.length - marker.length) : out
  const status: SandboxStatus =
    outcome.spawnError !== undefined
      ? "error"
      : outcome.overflow
        ? "output-limit"
        : outcome.timedOut || outcome.signal === "SIGXCPU"
          ? "timeout"
          : outcome.exitCode === SETUP_ERROR_EXIT && err.startsWith(SETUP_ERROR_PREFIX)
            ? "error"
            : outcome.exitCode === 0 && completed
              ? "passed"
              : "failed"
  return {
    status,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    stdout: cutHead(stdout),
    stderr: cutTail(outcome.spawnError ?? err),
    durationMs
  }
}

const errorResult = (message: string, durationMs: number): SandboxResult => ({
  status: "error",
  exitCode: null,
  signal: null,
  stdout: "",
  stderr: message,
  durationMs
})

/** A sandbox with its own concurrency limit. */
export const makeSandbox = (config: SandboxConfig = {}): Sandbox => {
  const concurrency = Math.max(1, Math.floor(config.concurrency ?? availableParallelism()))
  const semaphore = Semaphore.makeUnsafe(concurrency)
  let python: Promise<string> | undefined
  const interpreter = () => {
    python ??= config.python
      ? Promise.resolve(config.python)
      : process.env.MASPO_PYTHON
        ? Promise.resolve(process.env.MASPO_PYTHON)
        : resolvePython("python3")
    return python
  }

  const runOnce = (program: string, limits: Limits) =>
    Effect.gen(function* () {
      const started = Date.now()
      const exe = yield* Effect.promise(interpreter)
      const nonce = randomBytes(16).toString("hex")
      return yield* Effect.acquireUseRelease(
        Effect.tryPromise(() => mkdtemp(join(tmpdir(), TEMP_PREFIX))),
        (dir) =>
          Effect.gen(function* () {
            const programPath = join(dir, "program.py")
            yield* Effect.tryPromise(() => writeFile(programPath, program, "utf8"))
            const outcome = yield* Effect.callback<Outcome>((resume) => {
              const kill = startProcess(exe, dir, programPath, nonce, limits, (o) =>
                resume(Effect.succeed(o))
              )
              return Effect.sync(kill)
            })
            return classify(outcome, nonce, Date.now() - started)
          }),
        (dir) => Effect.promise(() => removeTree(dir))
      ).pipe(Effect.catch((e) => Effect.succeed(errorResult(`sandbox: ${String(e)}`, Date.now() - started))))
    })

  const runPython = Effect.fn("Sandbox.runPython")(function* (program: string, options: RunOptions = {}) {
    const limits: Limits = {
      timeoutMs: options.timeoutMs ?? DEFAULT_RUN_OPTIONS.timeoutMs,
      memoryMb: options.memoryMb ?? DEFAULT_RUN_OPTIONS.memoryMb,
      maxOutputBytes: options.maxOutputBytes ?? DEFAULT_RUN_OPTIONS.maxOutputBytes
    }
    return yield* Semaphore.withPermits(semaphore, 1)(runOnce(program, limits))
  })

  return { concurrency, runPython }
}

let shared: Sandbox | undefined
/** The process-wide sandbox (concurrency `os.availableParallelism()`), created on first use. */
export const defaultSandbox = (): Sandbox => (shared ??= makeSandbox())

/** Runs a program in the process-wide sandbox. */
export const runPython = (program: string, options?: RunOptions): Effect.Effect<SandboxResult> =>
  Effect.suspend(() => defaultSandbox().runPython(program, options))
