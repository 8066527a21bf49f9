import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { chmod, lstat, mkdtemp, readdir, rm } from "node:fs/promises"
import { availableParallelism, tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Result, Semaphore } from "effect"
import { HARNESS, MARKER_PREFIX, SETUP_ERROR_EXIT, SETUP_ERROR_PREFIX } from "./harness.ts"
import {
  BWRAP_ERROR_PREFIX,
  bwrapArgs,
  ISOLATION_ENV,
  type Isolation,
  type IsolationSetting,
  isolationSetting,
  probeBwrap,
  type PythonInstall,
  resolvePython,
  SandboxIsolationError
} from "./isolation.ts"

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
  /** Which layers guarded the run (see `Isolation`); null when no program was started. */
  readonly isolation: Isolation | null
}

/**
 * A program in two parts: `source` (the candidate with whatever it needs) runs first, then `tests`,
 * in a copy of its globals, with the comparisons they make checked (see harness.ts). A plain string is
 * a program without tests part.
 */
export interface PythonProgram {
  readonly source: string
  readonly tests: string
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
  /** OS isolation: required (`bwrap`, the default), `auto` or `in-process`; default env MASPO_SANDBOX_ISOLATION. */
  readonly isolation?: IsolationSetting
  /** The bubblewrap executable. Default `bwrap` (from PATH). */
  readonly bwrap?: string
}

export interface Sandbox {
  readonly concurrency: number
  /**
   * Runs one program in a fresh temporary directory. Never fails: problems are a result status. Dies
   * with a `SandboxIsolationError` when OS isolation is required and bwrap does not work here.
   */
  readonly runPython: (program: string | PythonProgram, options?: RunOptions) => Effect.Effect<SandboxResult>
  /**
   * The isolation runs get (probing bwrap once), null when the interpreter cannot run; dies like
   * `runPython` when OS isolation is required and missing.
   */
  readonly isolation: Effect.Effect<Isolation | null>
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

/** How a run's interpreter is started: directly, or inside bwrap. */
interface Launch {
  readonly install: PythonInstall
  readonly isolation: Isolation
  readonly bwrap: string
}

/** The harness's stdin: the nonce, the program's byte length, the program, then the tests. */
const harnessInput = (nonce: string, program: PythonProgram): Buffer => {
  const source = Buffer.from(program.source, "utf8")
  return Buffer.concat([
    Buffer.from(`${nonce}\n${source.length}\n`),
    source,
    Buffer.from(program.tests, "utf8")
  ])
}

/** Starts the harness; calls `done` exactly once. The returned function kills the process group. */
const startProcess = (
  launch: Launch,
  dir: string,
  input: Buffer,
  limits: Limits,
  done: (outcome: Outcome) => void
): (() => void) => {
  const cpuSeconds = Math.ceil(limits.timeoutMs / 1000) + 1
  const pythonArgs = [
    "-S", // no site: no site-packages, no .pth files
    "-s", // no user site
    "-P", // no script directory on sys.path
    "-B", // no .pyc writes
    "-c",
    HARNESS,
    String(limits.memoryMb * 1024 * 1024),
    String(cpuSeconds),
    String(FILE_SIZE_LIMIT),
    String(NPROC_HEADROOM)
  ]
  const [command, args] =
    launch.isolation === "bwrap"
      ? [launch.bwrap, bwrapArgs(launch.install, dir, pythonArgs)]
      : [launch.install.executable, pythonArgs]
  const stdout: Array<Buffer> = []
  const stderr: Array<Buffer> = []
  let outBytes = 0
  let timedOut = false
  let overflow = false
  let finished = false
  let exitGrace: NodeJS.Timeout | undefined
  let child: ChildProcessWithoutNullStreams
  try {
    child = spawn(command, args, { cwd: dir, env: childEnv(dir), detached: true, stdio: "pipe" })
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
  // the program managed to start despite the audit hook. Under bwrap the child is bwrap itself: its
  // death takes the sandbox's PID namespace (--die-with-parent), and with it every process inside.
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
  child.stdin.end(input)
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
const classify = (
  outcome: Outcome,
  nonce: string,
  durationMs: number,
  isolation: Isolation
): SandboxResult => {
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
          : (outcome.exitCode === SETUP_ERROR_EXIT && err.startsWith(SETUP_ERROR_PREFIX)) ||
              (isolation === "bwrap" &&
                outcome.exitCode === 1 &&
                out === "" &&
                err.startsWith(BWRAP_ERROR_PREFIX))
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
    durationMs,
    isolation
  }
}

const errorResult = (message: string, durationMs: number): SandboxResult => ({
  status: "error",
  exitCode: null,
  signal: null,
  stdout: "",
  stderr: message,
  durationMs,
  isolation: null
})

let warnedInProcess = false

type Prepared =
  | { readonly _tag: "ready"; readonly launch: Launch }
  | { readonly _tag: "no-interpreter"; readonly message: string }
  | { readonly _tag: "unavailable"; readonly error: SandboxIsolationError }

/** Resolves the interpreter and decides the isolation, probing bwrap once. */
const prepare = async (config: SandboxConfig): Promise<Prepared> => {
  const setting = isolationSetting(config.isolation)
  if (Result.isFailure(setting)) return { _tag: "unavailable", error: setting.failure }
  const command = config.python ?? (process.env.MASPO_PYTHON || "python3")
  const install = await resolvePython(command)
  if ("error" in install) return { _tag: "no-interpreter", message: `sandbox: ${install.error}` }
  const bwrap = config.bwrap ?? "bwrap"
  if (setting.success === "in-process")
    return { _tag: "ready", launch: { install, bwrap, isolation: "in-process" } }
  const problem = await probeBwrap(bwrap, install)
  if (problem === undefined) return { _tag: "ready", launch: { install, bwrap, isolation: "bwrap" } }
  if (setting.success === "auto") {
    if (!warnedInProcess) {
      warnedInProcess = true
      process.emitWarning(
        `maspo sandbox: bubblewrap does not work here (${problem}); code runs with the in-process layer only (audit hook, rlimits), without OS isolation.`
      )
    }
    return { _tag: "ready", launch: { install, bwrap, isolation: "in-process" } }
  }
  return {
    _tag: "unavailable",
    error: new SandboxIsolationError({
      message:
        `the code sandbox requires OS isolation by bubblewrap, which does not work here: ${problem}. ` +
        `Install it (Debian/Ubuntu: apt-get install -y bubblewrap), or accept the weaker in-process layer ` +
        `(audit hook and rlimits) with ${ISOLATION_ENV}=in-process, or ${ISOLATION_ENV}=auto to fall back with a warning.`
    })
  }
}

const asProgram = (program: string | PythonProgram): PythonProgram =>
  typeof program === "string" ? { source: program, tests: "" } : program

/** A sandbox with its own concurrency limit. */
export const makeSandbox = (config: SandboxConfig = {}): Sandbox => {
  const concurrency = Math.max(1, Math.floor(config.concurrency ?? availableParallelism()))
  const semaphore = Semaphore.makeUnsafe(concurrency)
  let prepared: Promise<Prepared> | undefined
  const ready = Effect.promise(() => (prepared ??= prepare(config)))

  const runOnce = (launch: Launch, program: PythonProgram, limits: Limits) =>
    Effect.gen(function* () {
      const started = Date.now()
      const nonce = randomBytes(16).toString("hex")
      const input = harnessInput(nonce, program)
      return yield* Effect.acquireUseRelease(
        Effect.tryPromise(() => mkdtemp(join(tmpdir(), TEMP_PREFIX))),
        (dir) =>
          Effect.gen(function* () {
            const outcome = yield* Effect.callback<Outcome>((resume) => {
              const kill = startProcess(launch, dir, input, limits, (o) => resume(Effect.succeed(o)))
              return Effect.sync(kill)
            })
            return classify(outcome, nonce, Date.now() - started, launch.isolation)
          }),
        (dir) => Effect.promise(() => removeTree(dir))
      ).pipe(Effect.catch((e) => Effect.succeed(errorResult(`sandbox: ${String(e)}`, Date.now() - started))))
    })

  const runPython = Effect.fn("Sandbox.runPython")(function* (
    program: string | PythonProgram,
    options: RunOptions = {}
  ) {
    const limits: Limits = {
      timeoutMs: options.timeoutMs ?? DEFAULT_RUN_OPTIONS.timeoutMs,
      memoryMb: options.memoryMb ?? DEFAULT_RUN_OPTIONS.memoryMb,
      maxOutputBytes: options.maxOutputBytes ?? DEFAULT_RUN_OPTIONS.maxOutputBytes
    }
    const p = yield* ready
    if (p._tag === "unavailable") return yield* Effect.die(p.error)
    if (p._tag === "no-interpreter") return errorResult(p.message, 0)
    return yield* Semaphore.withPermits(semaphore, 1)(runOnce(p.launch, asProgram(program), limits))
  })

  const isolation = Effect.gen(function* () {
    const p = yield* ready
    if (p._tag === "unavailable") return yield* Effect.die(p.error)
    return p._tag === "ready" ? p.launch.isolation : null
  })

  return { concurrency, runPython, isolation }
}

let shared: Sandbox | undefined
/** The process-wide sandbox (concurrency `os.availableParallelism()`), created on first use. */
export const defaultSandbox = (): Sandbox => (shared ??= makeSandbox())

/** Runs a program in the process-wide sandbox. */
export const runPython = (
  program: string | PythonProgram,
  options?: RunOptions
): Effect.Effect<SandboxResult> => Effect.suspend(() => defaultSandbox().runPython(program, options))
