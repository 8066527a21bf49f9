import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { MARKER_PREFIX } from "../src/code/harness.ts"
import { makeSandbox, runPython, type SandboxResult } from "../src/code/index.ts"

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

describe("sandbox: hostile programs end as failures", () => {
  it.effect("an infinite loop times out and its directory is removed", () =>
    Effect.gen(function* () {
      const r = yield* runPython(withCwd("while True:\n    pass"), { timeoutMs: 1500 })
      expectFailedAndCleaned(r, "timeout")
      assert.strictEqual(r.signal, "SIGKILL")
    })
  )

  it.effect("a fork bomb is stopped at the first fork", () =>
    Effect.gen(function* () {
      const r = yield* runPython(withCwd("import os\nwhile True:\n    os.fork()"), { timeoutMs: 2000 })
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
        const r = yield* runPython(withCwd(program), { timeoutMs: 2000 })
        expectFailedAndCleaned(r)
        assert.include(r.stderr, "not allowed", program)
      }
    })
  )

  it.effect("allocating 10 GB fails", () =>
    Effect.gen(function* () {
      const r = yield* runPython(withCwd("x = bytearray(10 * 1024**3)"))
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
        const r = yield* runPython(withCwd(program))
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
          const r = yield* runPython(withCwd(program))
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
      const r = yield* runPython(
        withCwd("with open('big', 'wb') as f:\n    f.write(b'x' * (20 * 1024 * 1024))")
      )
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
        const r = yield* runPython(withCwd(program))
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
        const r = yield* runPython(withCwd(program))
        expectFailedAndCleaned(r)
      }
    })
  )

  it.effect("huge output is cut off as output-limit", () =>
    Effect.gen(function* () {
      const r = yield* runPython(withCwd("print('x' * 10**8)"))
      expectFailedAndCleaned(r, "output-limit")
      assert.isAtMost(r.stdout.length, 8192)
      const e = yield* runPython("import sys\nwhile True:\n    sys.stderr.write('e' * 4096)", {
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
          const r = yield* runPython(withCwd(program))
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
        const r1 = yield* runPython(
          "import resource\nresource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))"
        )
        assert.strictEqual(r1.status, "failed")
        assert.include(r1.stderr, "not allowed")
        const r2 = yield* runPython(
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
        const outcome = yield* sandbox
          .runPython("while True:\n    pass", { timeoutMs: 60_000 })
          .pipe(Effect.timeoutOption("700 millis"))
        assert.isTrue(Option.isNone(outcome))
        assert.deepStrictEqual(readdirSync(root), [])
        const alive = readdirSync("/proc")
          .filter((p) => /^\d+$/.test(p))
          .filter((p) => {
            try {
              return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(root)
            } catch {
              return false
            }
          })
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
