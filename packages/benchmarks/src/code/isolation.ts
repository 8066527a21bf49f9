import { execFile } from "node:child_process"
import { lstatSync, readlinkSync } from "node:fs"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Result, Schema } from "effect"

/**
 * Which layers guard a run:
 * - `bwrap`: the program runs inside bubblewrap (own user, PID, network, IPC and mount namespaces; a
 *   read-only root holding only the system directories and the interpreter; only its run directory
 *   writable; no network), with the in-process layer (audit hook, rlimits) inside it;
 * - `in-process`: the audit hook and rlimits only.
 */
export type Isolation = "bwrap" | "in-process"

/**
 * - `bwrap` (default): OS isolation is required; when bwrap does not work here, running a program is a
 *   `SandboxIsolationError` (a defect: scores computed without the isolation the user expects would
 *   be silently weaker);
 * - `auto`: bwrap when it works, else the in-process layer with a one-time warning;
 * - `in-process`: never bwrap (e.g. machines without user namespaces, macOS).
 */
export type IsolationSetting = "bwrap" | "auto" | "in-process"
export const ISOLATION_SETTINGS: ReadonlyArray<IsolationSetting> = ["bwrap", "auto", "in-process"]
/** Environment variable that sets the isolation when the sandbox's config does not. */
export const ISOLATION_ENV = "MASPO_SANDBOX_ISOLATION"

export class SandboxIsolationError extends Schema.TaggedError<SandboxIsolationError>()(
  "SandboxIsolationError",
  {
    message: Schema.String
  }
) {}

/** The isolation setting: the config's, else the environment's (an unknown value is an error), else `bwrap`. */
export const isolationSetting = (
  configured: IsolationSetting | undefined,
  env: string | undefined = process.env[ISOLATION_ENV]
): Result.Result<IsolationSetting, SandboxIsolationError> => {
  if (configured !== undefined) return Result.succeed(configured)
  if (env === undefined || env === "") return Result.succeed("bwrap")
  return (ISOLATION_SETTINGS as ReadonlyArray<string>).includes(env)
    ? Result.succeed(env as IsolationSetting)
    : Result.fail(
        new SandboxIsolationError({
          message: `${ISOLATION_ENV}=${JSON.stringify(env)} is not one of ${ISOLATION_SETTINGS.join(", ")}`
        })
      )
}

/** Where the interpreter lives: its real executable and the directories it needs (prefixes). */
export const PythonInstall = Schema.Struct({
  executable: Schema.String,
  dirs: Schema.Array(Schema.String)
})
export type PythonInstall = typeof PythonInstall.Type

const INSTALL_SCRIPT = `
import sys, os, json
exe = os.path.realpath(sys.executable)
dirs = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
dirs.add(os.path.dirname(exe))
sys.stdout.write(json.dumps({"executable": exe, "dirs": sorted(dirs)}))
`

/**
 * Asks the interpreter where it lives. `python3` may be a shell shim (pyenv) costing ~50 ms a start,
 * so the real executable is resolved once; the prefixes are what bwrap must make visible.
 */
export const resolvePython = (command: string): Promise<PythonInstall | { readonly error: string }> =>
  new Promise((resolve) => {
    execFile(command, ["-S", "-c", INSTALL_SCRIPT], { timeout: 30_000 }, (error, stdout) => {
      if (error) return resolve({ error: `cannot run the interpreter ${command}: ${error.message}` })
      try {
        resolve(Schema.decodeUnknownSync(PythonInstall)(JSON.parse(stdout)))
      } catch (e) {
        resolve({ error: `the interpreter ${command} did not describe itself: ${String(e)}` })
      }
    })
  })

/** System directories the interpreter and its shared libraries may need; symlinks are recreated. */
const SYSTEM_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
/**
 * The few files of /etc that the loader and the standard library read. Not all of /etc: it can hold
 * keys and passwords (/etc/shadow is readable by root, and root in the sandbox maps to the real root).
 */
const ETC_FILES = [
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/localtime",
  "/etc/timezone",
  "/etc/passwd",
  "/etc/group",
  "/etc/nsswitch.conf",
  "/etc/mime.types"
]

let systemMountsMemo: ReadonlyArray<string> | undefined
/** The same for every run of the process: computed once. */
const systemMounts = (): ReadonlyArray<string> =>
  (systemMountsMemo ??= SYSTEM_PATHS.flatMap((path) => {
    try {
      const st = lstatSync(path)
      if (st.isSymbolicLink()) return ["--symlink", readlinkSync(path), path]
      return st.isDirectory() ? ["--ro-bind", path, path] : []
    } catch {
      return []
    }
  }))

const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`)

/**
 * The bwrap command line that runs `argv` with `dir` as its only writable directory and working
 * directory. Namespaces: user (no capabilities, so nothing can be remounted writable), PID (the program
 * sees only itself; it cannot signal the evaluating process, and when bwrap dies, `--die-with-parent`
 * takes the namespace's init and with it every process in it), network (loopback only, its own),
 * IPC, UTS, cgroup. `/` is a fresh read-only tmpfs with the system directories and the interpreter's
 * prefixes bound read-only: the user's home, /tmp, /run (sockets), /var and the rest of /etc are absent.
 */
export const bwrapArgs = (
  install: PythonInstall,
  dir: string,
  argv: ReadonlyArray<string>
): Array<string> => {
  const system = systemMounts()
  // The dirs are real paths already (INSTALL_SCRIPT); those under /usr are bound with it.
  const pythonDirs = install.dirs.filter((d) => !SYSTEM_PATHS.some((s) => under(d, s)))
  return [
    "--unshare-all",
    "--unshare-user",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    ...system,
    ...ETC_FILES.flatMap((f) => ["--ro-bind-try", f, f]),
    ...pythonDirs.flatMap((d) => ["--ro-bind", d, d]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--bind",
    dir,
    dir,
    "--remount-ro",
    "/",
    "--remount-ro",
    "/dev",
    "--chdir",
    dir,
    "--",
    install.executable,
    ...argv
  ]
}

/** bwrap writes its own setup errors to stderr with this prefix, and exits 1. */
export const BWRAP_ERROR_PREFIX = "bwrap: "

const PROBE_OUTPUT = "maspo-bwrap-ok"

/**
 * Whether bwrap works here with exactly the command line the sandbox uses (it may not inside some
 * containers: no user namespaces, or mounts refused). Resolves to undefined when it works, else the reason.
 */
export const probeBwrap = async (bwrap: string, install: PythonInstall): Promise<string | undefined> => {
  const dir = await mkdtemp(join(tmpdir(), "maspo-sandbox-probe-"))
  try {
    return await new Promise((resolve) => {
      execFile(
        bwrap,
        bwrapArgs(install, dir, ["-S", "-c", `print(${JSON.stringify(PROBE_OUTPUT)})`]),
        { timeout: 30_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } },
        (error, stdout, stderr) =>
          resolve(
            error
              ? `${bwrap} failed: ${error.message.trim()}${stderr.trim() === "" ? "" : ` (${stderr.trim()})`}`
              : stdout.trim() === PROBE_OUTPUT
                ? undefined
                : `${bwrap} ran but the interpreter printed ${JSON.stringify(stdout.slice(0, 200))}`
          )
      )
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
