import { spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option, Result } from "effect"
import fc from "fast-check"
import { MARKER_PREFIX } from "../src/code/harness.ts"
import {
  bwrapArgs,
  ISOLATION_ENV,
  ISOLATION_SETTINGS,
  isolationSetting,
  makeSandbox,
  resolvePython,
  runPython,
  SandboxIsolationError,
  type SandboxResult
} from "../src/code/index.ts"

/** Prints the run's directory first, so a test can check it was removed. */
const withCwd = (program: string) => `import os as _o\nprint(_o.getcwd(), flush=True)\n${program}`

const runDirOf = (r: SandboxResult): string => {
  const first = r.stdout.split("\n")[0] ?? ""
  assert.match(first, /maspo-sandbox-/, `no run directory in stdout: ${r.stdout.slice(0, 200)}`)
  return first
}

const expectFailedAndCleaned = (r: SandboxResult, status: SandboxResult["status"] = "failed") => {
  assert.strictEqual(r.status, status, `status ${r.status}; stderr: ${r.stderr.slice(-500)}`)
  assert.isFalse(existsSync(runDirOf(r)), "run directory left behind")
}

const randomName = () => randomBytes(12).toString("hex")

describe("sandbox: ordinary programs", () => {
  it.effect("a passing program passes, with its stdout and without the marker", () =>
    Effect.gen(function* () {
      const r = yield* runPython(withCwd("def f(x):\n    return x + 1\nassert f(1) == 2\nprint('done')"))
      assert.strictEqual(r.status, "passed", r.stderr)
      assert.strictEqual(r.exitCode, 0)
      assert.isTrue(r.stdout.endsWith("done\n"), r.stdout)
      assert.notInclude(r.stdout, MARKER_PREFIX)
      assert.isFalse(existsSync(runDirOf(r)))
    })
  )

  it.effect("a failing assert fails with the traceback in stderr", () =>
    Effect.gen(function* () {
      const r = yield* runPython(withCwd("def f(x):\n    return x\nassert f(1) == 2"))
      expectFailedAndCleaned(r)
      assert.strictEqual(r.exitCode, 1)
      assert.include(r.stderr, "AssertionError")
    })
  )

  it.effect("a syntax error fails", () =>
    Effect.gen(function* () {
      const r = yield* runPython("def (:\n")
      assert.strictEqual(r.status, "failed")
      assert.include(r.stderr, "SyntaxError")
    })
  )

  it.effect("string hashing is deterministic across runs (PYTHONHASHSEED=0)", () =>
    Effect.gen(function* () {
      const a = yield* runPython("print(hash('maspo'), list({'x', 'y', 'z', 'w'}))")
      const b = yield* runPython("print(hash('maspo'), list({'x', 'y', 'z', 'w'}))")
      assert.strictEqual(a.status, "passed", a.stderr)
      assert.strictEqual(a.stdout, b.stdout)
    })
  )

  it.effect("the environment holds no inherited variables and stdin is empty", () =>
    Effect.gen(function* () {
      process.env.MASPO_SANDBOX_TEST_SECRET = "do-not-leak"
      const r = yield* runPython(
        "import os, sys\nprint(sorted(k for k in os.environ if k not in ('LC_CTYPE',)))\nprint(repr(sys.stdin.read()))"
      )
      delete process.env.MASPO_SANDBOX_TEST_SECRET
      assert.strictEqual(r.status, "passed", r.stderr)
      const [keys, stdin] = r.stdout.split("\n")
      assert.strictEqual(
        keys,
        "['HOME', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'PYTHONHASHSEED', 'PYTHONIOENCODING', 'PYTHONUTF8', 'TMPDIR']"
      )
      assert.strictEqual(stdin, "''")
    })
  )

  it.effect("writing inside the run directory and tempfile work", () =>
    Effect.gen(function* () {
      const r = yield* runPython(
        withCwd(
          "import tempfile, os\nopen('a.txt', 'w').write('x')\nwith tempfile.NamedTemporaryFile() as f:\n    f.write(b'y')\n" +
            "os.mkdir('d')\nos.rename('a.txt', 'd/b.txt')\nassert open('d/b.txt').read() == 'x'\nos.remove('d/b.txt')"
        )
      )
      assert.strictEqual(r.status, "passed", r.stderr)
      assert.isFalse(existsSync(runDirOf(r)))
    })
  )

  it.effect("a directory the program made unreadable is still removed", () =>
    Effect.gen(function* () {
      const r = yield* runPython(
        withCwd(
          "import os\nos.makedirs('a/b')\nopen('a/b/f', 'w').write('x')\nos.chmod('a/b', 0)\nos.chmod('a', 0)"
        )
      )
      assert.strictEqual(r.status, "passed", r.stderr)
      assert.isFalse(existsSync(runDirOf(r)))
    })
  )

  it.effect("`if __name__ == '__main__'` blocks do not run (they often read input); asyncio works", () =>
    Effect.gen(function* () {
      const r = yield* runPython(
        "def f():\n    return 1\nif __name__ == '__main__':\n    n = int(input())\nassert f() == 1\n" +
          "import asyncio\nasync def g():\n    await asyncio.sleep(0)\n    return 2\nassert asyncio.run(g()) == 2"
      )
      assert.strictEqual(r.status, "passed", r.stderr)
    })
  )

  it.effect("threads and deep recursion still work", () =>
    Effect.gen(function* () {
      const r = yield* runPython(
        "import sys, threading\nsys.setrecursionlimit(100000)\ndef f(n): return 0 if n == 0 else 1 + f(n - 1)\n" +
          "assert f(20000) == 20000\nout = []\nt = threading.Thread(target=lambda: out.append(1))\nt.start(); t.join()\nassert out == [1]"
      )
      assert.strictEqual(r.status, "passed", r.stderr)
    })
  )
})

for (const [name, run] of [
  ["bwrap", makeSandbox({ isolation: "bwrap" }).runPython],
  ["in-process", makeSandbox({ isolation: "in-process" }).runPython]
] as const)
  describe(`sandbox (${name}): hostile programs end as failures`, () => {
    it.effect("an infinite loop times out and its directory is removed", () =>
      Effect.gen(function* () {
        const r = yield* run(withCwd("while True:\n    pass"), { timeoutMs: 1500 })
        expectFailedAndCleaned(r, "timeout")
        assert.strictEqual(r.signal, "SIGKILL")
      })
    )

    it.effect("a fork bomb is stopped at the first fork", () =>
      Effect.gen(function* () {
        const r = yield* run(withCwd("import os\nwhile True:\n    os.fork()"), { timeoutMs: 2000 })
        expectFailedAndCleaned(r)
        assert.include(r.stderr, "os.fork is not allowed")
      })
    )

    it.effect("process creation by subprocess, os.system, os.exec*, posix_spawn and ctypes is blocked", () =>
      Effect.gen(function* () {
        for (const program of [
          "import subprocess\nsubprocess.run(['true'])",
          "import _posixsubprocess, os\nr, w = os.pipe()\n_posixsubprocess.fork_exec([b'/bin/true'], [b'/bin/true'], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, False, False, None, None, None, None, -1, None, False)",
          "import sys\ndel sys.modules['_posixsubprocess']\nimport _posixsubprocess",
          "import os\nos.system('true')",
          "import os\nos.execv('/bin/true', ['true'])",
          "import os\nos.posix_spawn('/bin/true', ['true'], {})",
          "import os\nos.spawnv(os.P_WAIT, '/bin/true', ['true'])",
          "import pty\npty.fork()",
          "import ctypes\nctypes.CDLL(None).fork()",
          "import os\nos.kill(os.getppid(), 0)"
        ]) {
          const r = yield* run(withCwd(program), { timeoutMs: 2000 })
          expectFailedAndCleaned(r)
          assert.include(r.stderr, "not allowed", program)
        }
      })
    )

    it.effect("allocating 10 GB fails", () =>
      Effect.gen(function* () {
        const r = yield* run(withCwd("x = bytearray(10 * 1024**3)"))
        expectFailedAndCleaned(r)
        assert.include(r.stderr, "MemoryError")
      })
    )

    it.effect("writing, creating, renaming or deleting outside the run directory is blocked", () =>
      Effect.gen(function* () {
        const target = join(tmpdir(), `maspo-sandbox-escape-${randomName()}.txt`)
        for (const program of [
          `open(${JSON.stringify(target)}, 'w').write('x')`,
          `open(${JSON.stringify(target)}, 'a').write('x')`,
          `import os\nos.close(os.open(${JSON.stringify(target)}, os.O_WRONLY | os.O_CREAT))`,
          `import os\nos.symlink(${JSON.stringify(target)}, 'link')\nopen('link', 'w').write('x')`,
          `import os\nos.chdir('/tmp')\nopen(${JSON.stringify(target.split("/").at(-1))}, 'w').write('x')`,
          `import os\nopen('x', 'w').write('x')\nos.rename('x', ${JSON.stringify(target)})`,
          `import shutil\nopen('x', 'w').write('x')\nshutil.copyfile('x', ${JSON.stringify(target)})`,
          `import sqlite3\nsqlite3.connect(${JSON.stringify(target)}).execute("create table t (x)")`
        ]) {
          const r = yield* run(withCwd(program))
          expectFailedAndCleaned(r)
          assert.include(r.stderr, "not allowed", program)
          assert.isFalse(existsSync(target), `${target} was written by:\n${program}`)
        }
        const victim = mkdtempSync(join(tmpdir(), "maspo-sandbox-victim-"))
        try {
          for (const program of [
            `import shutil\nshutil.rmtree(${JSON.stringify(victim)})`,
            `import os\nos.rmdir(${JSON.stringify(victim)})`,
            `import os\nos.chmod(${JSON.stringify(victim)}, 0)`
          ]) {
            const r = yield* run(withCwd(program))
            expectFailedAndCleaned(r)
            assert.isTrue(existsSync(victim), program)
          }
        } finally {
          rmSync(victim, { recursive: true, force: true })
        }
      })
    )

    it.effect("a file over the size limit cannot be written, even in the run directory", () =>
      Effect.gen(function* () {
        const r = yield* run(withCwd("with open('big', 'wb') as f:\n    f.write(b'x' * (20 * 1024 * 1024))"))
        expectFailedAndCleaned(r)
        assert.include(r.stderr, "File too large")
      })
    )

    it.effect("sys.exit(0) or os._exit(0) before the asserts fails despite exit code 0", () =>
      Effect.gen(function* () {
        for (const program of [
          "import sys\nsys.exit(0)\nassert False",
          "import os\nos._exit(0)\nassert False",
          "raise SystemExit\nassert False"
        ]) {
          const r = yield* run(withCwd(program))
          expectFailedAndCleaned(r)
          assert.strictEqual(r.exitCode, 0, program)
        }
      })
    )

    it.effect("a printed fake marker (without this run's nonce) does not pass", () =>
      Effect.gen(function* () {
        const fake = `${MARKER_PREFIX}${randomBytes(16).toString("hex")}`
        for (const program of [
          `import sys\nprint(${JSON.stringify(fake)})\nsys.exit(0)`,
          `import os\nos.write(1, b"\\n${fake}\\n")\nos._exit(0)`,
          `print(${JSON.stringify(fake)})\nassert False`
        ]) {
          const r = yield* run(withCwd(program))
          expectFailedAndCleaned(r)
        }
      })
    )

    it.effect("huge output is cut off as output-limit", () =>
      Effect.gen(function* () {
        const r = yield* run(withCwd("print('x' * 10**8)"))
        expectFailedAndCleaned(r, "output-limit")
        assert.isAtMost(r.stdout.length, 8192)
        const e = yield* run("import sys\nwhile True:\n    sys.stderr.write('e' * 4096)", {
          maxOutputBytes: 10_000
        })
        assert.strictEqual(e.status, "output-limit")
      })
    )

    it.effect("network access is blocked (no connection reaches a local server)", () =>
      Effect.gen(function* () {
        let connections = 0
        const server = createServer((socket) => {
          connections++
          socket.destroy()
        })
        const port = yield* Effect.promise(
          () =>
            new Promise<number>((resolve) =>
              server.listen(0, "127.0.0.1", () => {
                const address = server.address()
                resolve(typeof address === "object" && address !== null ? address.port : 0)
              })
            )
        )
        try {
          for (const program of [
            `import socket\nsocket.create_connection(("127.0.0.1", ${port}))`,
            `import socket\ns = socket.socket()\ns.connect(("127.0.0.1", ${port}))`,
            `import socket\nsocket.create_connection(("127.0.0.1", 9))`,
            `import urllib.request\nurllib.request.urlopen("http://127.0.0.1:${port}/")`,
            `import socket\na, b = socket.socketpair()\ns = socket.socket(socket.AF_UNIX)\ns.connect("/var/run/docker.sock")`
          ]) {
            const r = yield* run(withCwd(program))
            expectFailedAndCleaned(r)
            assert.include(r.stderr, "not allowed", program)
          }
          assert.strictEqual(connections, 0)
        } finally {
          server.close()
        }
      })
    )

    it.effect(
      "the resource limits cannot be raised and the audit hook cannot be bypassed by reading stdin",
      () =>
        Effect.gen(function* () {
          const r1 = yield* run(
            "import resource\nresource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))"
          )
          assert.strictEqual(r1.status, "failed")
          assert.include(r1.stderr, "not allowed")
          const r2 = yield* run(
            "import sys\nassert sys.stdin.buffer.read() == b''\nimport gc\ngc.get_objects()"
          )
          assert.strictEqual(r2.status, "failed")
          assert.include(r2.stderr, "gc.get_objects is not allowed")
        })
    )
  })

describe("sandbox: concurrency and interruption", () => {
  it.effect("a sandbox of concurrency 1 never overlaps two runs", () =>
    Effect.gen(function* () {
      const sandbox = makeSandbox({ concurrency: 1 })
      assert.strictEqual(sandbox.concurrency, 1)
      const program = "import time\nprint(time.time())\ntime.sleep(0.3)\nprint(time.time())"
      const results = yield* Effect.all([sandbox.runPython(program), sandbox.runPython(program)], {
        concurrency: "unbounded"
      })
      const spans = results.map((r) => {
        assert.strictEqual(r.status, "passed", r.stderr)
        const [start, end] = r.stdout.trim().split("\n").map(Number)
        return [start!, end!] as const
      })
      const [a, b] = spans.sort((x, y) => x[0] - y[0])
      assert.isAtLeast(b![0], a![1], `runs overlapped: ${JSON.stringify(spans)}`)
    })
  )

  it.live("interrupting a run kills the process and removes its directory", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "maspo-sandbox-root-"))
      const saved = process.env.TMPDIR
      process.env.TMPDIR = root
      try {
        const sandbox = makeSandbox({ concurrency: 1 })
        // The one-time bwrap probe (its own directory in TMPDIR) happens first, not inside the
        // interrupted run: it is not interruptible and would still be cleaning up when we look.
        yield* sandbox.isolation
        const outcome = yield* sandbox
          .runPython("while True:\n    pass", { timeoutMs: 60_000 })
          .pipe(Effect.timeoutOption("700 millis"))
        assert.isTrue(Option.isNone(outcome))
        assert.deepStrictEqual(readdirSync(root), [])
        const aliveNow = () =>
          readdirSync("/proc")
            .filter((p) => /^\d+$/.test(p))
            .filter((p) => {
              try {
                return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(root)
              } catch {
                return false
              }
            })
        // The kill is sent on interruption; the kernel reaps the namespace a moment later, which on a
        // loaded machine can outlast the interruption itself. Wait for it, within a bound.
        let alive = aliveNow()
        for (let i = 0; i < 50 && alive.length > 0; i++) {
          yield* Effect.sleep("100 millis")
          alive = aliveNow()
        }
        assert.deepStrictEqual(alive, [])
      } finally {
        if (saved === undefined) delete process.env.TMPDIR
        else process.env.TMPDIR = saved
        rmSync(root, { recursive: true, force: true })
      }
    })
  )

  it.effect("a missing interpreter is an error result, not a failure of the effect", () =>
    Effect.gen(function* () {
      const r = yield* makeSandbox({ python: `/nonexistent/python-${randomName()}` }).runPython("print(1)")
      assert.strictEqual(r.status, "error")
      assert.include(r.stderr, "ENOENT")
    })
  )
})

/** Pids of processes whose command line contains `token` (a program's would-be orphans). */
const processesWith = (token: string): Array<string> =>
  readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(token)
      } catch {
        return false
      }
    })

/** A loopback server that counts the connections it receives. */
const countingServer = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ port: number; connections: () => number; close: () => void }>((resolve) => {
        let connections = 0
        const server = createServer((socket) => {
          connections++
          socket.destroy()
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resolve({
            port: typeof address === "object" && address !== null ? address.port : 0,
            connections: () => connections,
            close: () => server.close()
          })
        })
      })
  ),
  (s) => Effect.sync(s.close)
)

const bwrapSandbox = makeSandbox({ isolation: "bwrap" })
const inProcessSandbox = makeSandbox({ isolation: "in-process" })

describe("sandbox: isolation", () => {
  it.effect("bwrap works on this machine and runs record which isolation guarded them", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* bwrapSandbox.isolation, "bwrap")
      assert.strictEqual(yield* inProcessSandbox.isolation, "in-process")
      assert.strictEqual((yield* bwrapSandbox.runPython("pass")).isolation, "bwrap")
      assert.strictEqual((yield* inProcessSandbox.runPython("pass")).isolation, "in-process")
    })
  )

  it.effect(
    "required bwrap that does not work is a SandboxIsolationError naming the opt-out, not scores of 0",
    () =>
      Effect.gen(function* () {
        const broken = makeSandbox({ isolation: "bwrap", bwrap: `/nonexistent/bwrap-${randomName()}` })
        const exit = yield* Effect.exit(broken.runPython("pass"))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          const defect = exit.cause.reasons.find(Cause.isDieReason)?.defect
          assert.instanceOf(defect, SandboxIsolationError)
          assert.include((defect as SandboxIsolationError).message, `${ISOLATION_ENV}=in-process`)
        }
        // `auto` falls back to the in-process layer (with a one-time warning) and says so in the result.
        const auto = makeSandbox({ isolation: "auto", bwrap: `/nonexistent/bwrap-${randomName()}` })
        const r = yield* auto.runPython("assert 1 + 1 == 2")
        assert.strictEqual(r.status, "passed", r.stderr)
        assert.strictEqual(r.isolation, "in-process")
      })
  )

  it("the isolation setting: config first, then the environment; an unknown value is an error naming it", () => {
    assert.deepStrictEqual(isolationSetting("auto", "in-process"), Result.succeed("auto"))
    assert.deepStrictEqual(isolationSetting(undefined, undefined), Result.succeed("bwrap"))
    assert.deepStrictEqual(isolationSetting(undefined, ""), Result.succeed("bwrap"))
    for (const s of ISOLATION_SETTINGS)
      assert.deepStrictEqual(isolationSetting(undefined, s), Result.succeed(s))
    fc.assert(
      fc.property(
        fc.string().filter((s) => s !== "" && !(ISOLATION_SETTINGS as ReadonlyArray<string>).includes(s)),
        (value) => {
          const r = isolationSetting(undefined, value)
          assert.isTrue(Result.isFailure(r))
          if (Result.isFailure(r)) {
            assert.include(r.failure.message, ISOLATION_ENV)
            assert.include(r.failure.message, JSON.stringify(value))
          }
        }
      )
    )
  })

  for (const [name, sandbox] of [
    ["bwrap", bwrapSandbox],
    ["in-process", inProcessSandbox]
  ] as const) {
    it.effect(
      `${name}: a sub-interpreter cannot run commands, write outside, connect or leave a process`,
      () =>
        Effect.gen(function* () {
          const server = yield* countingServer
          const token = `maspo-orphan-${randomName()}`
          const target = join(tmpdir(), `maspo-sandbox-escape-${randomName()}.txt`)
          const inner = [
            `import os, socket, subprocess`,
            `os.system("touch ${target}")`,
            `open("${target}", "w").write("x")`,
            `socket.create_connection(("127.0.0.1", ${server.port}))`,
            `subprocess.Popen(["sleep", "30", "${token}"], start_new_session=True)`
          ].join("\n")
          for (const program of [
            `import _xxsubinterpreters as s\ns.run_string(s.create(), ${JSON.stringify(inner)})`,
            `import _testcapi\n_testcapi.run_in_subinterp(${JSON.stringify(inner)})`,
            `import importlib.util, os, glob\np = glob.glob(os.path.dirname(os.__file__) + "/lib-dynload/_xxsubinterpreters*")[0]\n` +
              `spec = importlib.util.spec_from_file_location("_xxsubinterpreters", p)\nm = importlib.util.module_from_spec(spec)\n` +
              `m.run_string(m.create(), ${JSON.stringify(inner)})`
          ]) {
            const r = yield* sandbox.runPython(withCwd(program), { timeoutMs: 5000 })
            expectFailedAndCleaned(r)
            assert.include(r.stderr, "not allowed", program)
          }
          assert.isFalse(existsSync(target), "a file was written outside the run directory")
          assert.strictEqual(server.connections(), 0)
          assert.deepStrictEqual(processesWith(token), [])
        }).pipe(Effect.scoped)
    )

    it.effect(`${name}: pidfd_open + pidfd_send_signal cannot kill the evaluating process`, () =>
      Effect.gen(function* () {
        const kill = `signal.pidfd_send_signal(fd, 9)`
        for (const program of [
          `import os, signal\nfd = os.pidfd_open(os.getppid())\n${kill}`,
          `import posix, _signal as signal\nfd = posix.pidfd_open(posix.getppid())\n${kill}`,
          // A /proc/<pid> directory is a pidfd too.
          `import os, signal\nfd = os.open("/proc/%d" % os.getppid(), os.O_RDONLY)\n${kill}`,
          // Fresh copies of the modules, with the original functions.
          `import _imp, importlib.machinery as m, os\nposix = _imp.create_builtin(m.ModuleSpec("posix", m.BuiltinImporter))\nfd = posix.pidfd_open(os.getppid())`,
          `import _imp, importlib.machinery as m, os\nsignal = _imp.create_builtin(m.ModuleSpec("_signal", m.BuiltinImporter))\nfd = os.open("/proc/%d" % os.getppid(), os.O_RDONLY)\n${kill}`,
          `import importlib, os, posix\nimportlib.reload(posix)\nfd = posix.pidfd_open(os.getppid())`,
          // From a sub-interpreter.
          `import _xxsubinterpreters as s\ns.run_string(s.create(), "import os, signal; signal.pidfd_send_signal(os.pidfd_open(os.getppid()), 9)")`
        ]) {
          const r = yield* sandbox.runPython(withCwd(program), { timeoutMs: 5000 })
          expectFailedAndCleaned(r)
          assert.include(r.stderr, "not allowed", program)
        }
        // Still here: the worker running this test is the process they tried to kill (in-process).
        assert.isTrue(process.kill(process.pid, 0))
      })
    )

    it.effect(`${name}: the hostile programs above leave no python process behind`, () =>
      Effect.gen(function* () {
        const token = `maspo-left-${randomName()}`
        const r = yield* sandbox.runPython(`# ${token}\nwhile True:\n    pass`, { timeoutMs: 1000 })
        assert.strictEqual(r.status, "timeout")
        assert.deepStrictEqual(processesWith(token), [])
      })
    )
  }

  it.effect(
    "bwrap: reading outside the system directories is impossible, and the PID namespace is its own",
    () =>
      Effect.gen(function* () {
        const victim = mkdtempSync(join(tmpdir(), "maspo-sandbox-victim-"))
        writeFileSync(join(victim, "secret"), "s3cret")
        try {
          const program = (path: string) =>
            `import os\nprint(len([p for p in os.listdir("/proc") if p.isdigit()]), os.getppid())\n` +
            `print(open(${JSON.stringify(path)}).read())`
          const inside = yield* bwrapSandbox.runPython(program(join(victim, "secret")))
          assert.strictEqual(inside.status, "failed")
          assert.include(inside.stderr, "FileNotFoundError")
          const [count, ppid] = inside.stdout.trim().split(" ").map(Number)
          assert.isAtMost(count!, 3, inside.stdout)
          assert.isAtMost(ppid!, 1, inside.stdout)
          // This repository (and so its keys, caches and results) is invisible too.
          for (const path of ["/etc/shadow", "/home", "/run", "/var", fileURLToPath(import.meta.url)]) {
            const r = yield* bwrapSandbox.runPython(`import os\nos.stat(${JSON.stringify(path)})`)
            assert.strictEqual(r.status, "failed", path)
          }
          // The in-process layer does not restrict reads (documented).
          const plain = yield* inProcessSandbox.runPython(program(join(victim, "secret")))
          assert.strictEqual(plain.status, "passed", plain.stderr)
          assert.include(plain.stdout, "s3cret")
        } finally {
          rmSync(victim, { recursive: true, force: true })
        }
      })
  )

  it.effect("bwrap: a program past the in-process layer still cannot kill the evaluating process", () =>
    Effect.gen(function* () {
      // The `_imp` guard keeps the original function in its closure: a determined program gets it
      // and a fresh posix module with pidfd_open. Under bwrap, its parent is the namespace's init.
      const program =
        `import _imp, importlib.machinery as m, os\n` +
        `def original(f):\n    return f.__closure__[f.__code__.co_freevars.index("original")].cell_contents\n` +
        `spec = lambda n: m.ModuleSpec(n, m.BuiltinImporter)\n` +
        `posix = original(_imp.create_builtin)(spec("posix"))\n` +
        `signal = original(_imp.create_builtin)(spec("_signal"))\n` +
        `print(os.getppid())\n` +
        `signal.pidfd_send_signal(posix.pidfd_open(os.getppid()), 9)\n` +
        `print("survived")`
      const r = yield* bwrapSandbox.runPython(program, { timeoutMs: 10_000 })
      assert.strictEqual(r.status, "passed", r.stderr)
      assert.strictEqual(r.stdout, "1\nsurvived\n")
      assert.isTrue(process.kill(process.pid, 0))
    })
  )
})

describe("sandbox: the OS layer alone (bwrap's command line, without the harness)", () => {
  // What bwrap guarantees by itself, for programs that get past the audit hook: the same command
  // line as the sandbox, running plain Python that starts processes and opens sockets freely.
  const runBare = (code: string, timeoutMs = 10_000) =>
    Effect.promise(async () => {
      const install = await resolvePython(process.env.MASPO_PYTHON || "python3")
      if ("error" in install) throw new Error(install.error)
      const dir = mkdtempSync(join(tmpdir(), "maspo-sandbox-bare-"))
      try {
        return await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn("bwrap", bwrapArgs(install, dir, ["-S", "-c", code]), {
            detached: true,
            stdio: "pipe"
          })
          let stdout = ""
          let stderr = ""
          child.stdout.on("data", (c: Buffer) => (stdout += c.toString()))
          child.stderr.on("data", (c: Buffer) => (stderr += c.toString()))
          const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), timeoutMs)
          child.on("close", (code) => {
            clearTimeout(timer)
            resolve({ code, stdout, stderr })
          })
        })
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })

  it.effect("no writes outside the run directory, no network, no signal to the parent, no orphans", () =>
    Effect.gen(function* () {
      const server = yield* countingServer
      const token = `maspo-bare-${randomName()}`
      const target = join(tmpdir(), `maspo-sandbox-escape-${randomName()}.txt`)
      const r = yield* runBare(
        [
          `import os, signal, socket, subprocess, sys`,
          `print(subprocess.run(["/bin/sh", "-c", "touch ${target} 2>/dev/null || echo ro"], capture_output=True, text=True).stdout.strip())`,
          `try:\n    socket.create_connection(("127.0.0.1", ${server.port}), timeout=2)\n    print("connected")\nexcept OSError as e:\n    print("refused")`,
          `print(os.getppid())`,
          `try:\n    signal.pidfd_send_signal(os.pidfd_open(os.getppid()), 0)\n    print("parent visible")\nexcept OSError:\n    print("no parent")`,
          `subprocess.Popen(["/bin/sh", "-c", "exec sleep 60 # ${token}"], start_new_session=True)`,
          `subprocess.Popen(["sleep", "61"], start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)`,
          `import time\ntime.sleep(60)`
        ].join("\n"),
        3000
      )
      const lines = r.stdout.trim().split("\n")
      assert.strictEqual(lines[0], "ro", r.stderr)
      assert.strictEqual(lines[1], "refused")
      assert.isAtMost(Number(lines[2]), 1)
      assert.isFalse(existsSync(target))
      assert.strictEqual(server.connections(), 0)
      // Killing bwrap (as the sandbox does on timeout) took the namespace and everything in it.
      assert.deepStrictEqual(processesWith(token), [])
    }).pipe(Effect.scoped)
  )
})
