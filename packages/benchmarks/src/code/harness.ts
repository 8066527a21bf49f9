/**
 * The Python prelude every sandboxed program runs under. It is passed to the interpreter with `-c`
 * (so it is not a file the candidate can read or rewrite) and receives, in order:
 *   argv[1] the program file, argv[2] the address-space limit in bytes, argv[3] the CPU limit in
 *   seconds, argv[4] the file-size limit in bytes, argv[5] how many more processes the user may own;
 *   stdin: the per-run nonce (one line), read once before the candidate runs.
 * It applies resource limits, installs an audit hook (which later code cannot remove), executes the
 * program, and only if the program returns normally writes the completion marker and exits 0.
 */
export const SETUP_ERROR_PREFIX = "MASPO_SANDBOX_SETUP_ERROR"
export const SETUP_ERROR_EXIT = 86
export const MARKER_PREFIX = "MASPO_SANDBOX_DONE_"

export const HARNESS = String.raw`
import sys, os

def _maspo_sandbox():
    _write = os.write
    _exit = os._exit
    try:
        import resource
        nonce = sys.stdin.buffer.readline().strip()
        _fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(_fd, 0)
        os.close(_fd)
        sys.stdin = open(os.devnull, "r")
        root = os.path.realpath(os.getcwd())
        prog_path = sys.argv[1]
        mem, cpu, fsize, nproc_extra = (int(v) for v in sys.argv[2:6])
        with open(prog_path, "r", encoding="utf-8") as f:
            source = f.read()
        uid = os.getuid()
        owned = 0
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    if os.stat("/proc/" + p).st_uid == uid:
                        owned += 1
                except OSError:
                    pass

        def limit(res, soft, hard):
            cur_soft, cur_hard = resource.getrlimit(res)
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
                soft = min(soft, hard)
            resource.setrlimit(res, (soft, hard))

        limit(resource.RLIMIT_AS, mem, mem)
        limit(resource.RLIMIT_CPU, cpu, cpu + 1)
        limit(resource.RLIMIT_FSIZE, fsize, fsize)
        limit(resource.RLIMIT_NPROC, owned + nproc_extra, owned + nproc_extra)
        limit(resource.RLIMIT_CORE, 0, 0)
    except BaseException as e:
        _write(2, ("%s: %r\n" % ("${SETUP_ERROR_PREFIX}", e)).encode())
        _exit(${SETUP_ERROR_EXIT})

    blocked = frozenset((
        "os.fork", "os.forkpty", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.startfile",
        "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
        "os.link", "os.symlink",
        "socket.bind", "socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
        "socket.gethostbyaddr", "socket.getnameinfo", "socket.sendto", "socket.sendmsg",
        "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function",
        "resource.setrlimit", "resource.prlimit",
        "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys._current_frames",
    ))
    blocked_imports = frozenset(("_posixsubprocess", "_ctypes"))
    # event -> (indices of path arguments, index of the dir_fd argument or None)
    path_events = {
        "os.remove": ((0,), 1), "os.rmdir": ((0,), 1), "os.rename": ((0, 1), 2), "os.mkdir": ((0,), 2),
        "os.chmod": ((0,), 2), "os.chown": ((0,), 3), "os.truncate": ((0,), None),
        "os.utime": ((0,), 4), "os.mkfifo": ((0,), 2), "os.mknod": ((0,), 3),
        "os.setxattr": ((0,), None), "os.removexattr": ((0,), None), "os.chflags": ((0,), None),
        "os.lchflags": ((0,), None), "shutil.rmtree": ((0,), 1), "shutil.copyfile": ((1,), None),
        "shutil.copymode": ((1,), None), "shutil.copystat": ((1,), None), "shutil.copytree": ((1,), None),
        "shutil.move": ((0, 1), None), "shutil.chown": ((0,), None), "sqlite3.connect": ((0,), None),
    }
    devices = frozenset(("/dev/null", "/dev/stdout", "/dev/stderr"))
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
    realpath, abspath, fspath, readlink, sep = os.path.realpath, os.path.abspath, os.fspath, os.readlink, os.sep
    PermErr = PermissionError

    def inside(p):
        if isinstance(p, int):
            try:
                p = readlink("/proc/self/fd/%d" % p)
            except OSError:
                return False
        p = fspath(p)
        if isinstance(p, bytes):
            p = os.fsdecode(p)
        if abspath(p) in devices:
            return True
        rp = realpath(p)
        return rp == root or rp.startswith(root + sep)

    def hook(event, args):
        if event in blocked:
            raise PermErr("sandbox: %s is not allowed" % event)
        if event == "socket.__new__":
            # Unix socket pairs (asyncio's self-pipe) are harmless: connect and bind stay blocked.
            if len(args) < 2 or args[1] != 1:
                raise PermErr("sandbox: %s is not allowed" % event)
        elif event == "import":
            if args and args[0] in blocked_imports:
                raise PermErr("sandbox: importing %s is not allowed" % args[0])
        elif event == "open":
            path, mode, flags = (tuple(args) + (None, None, None))[:3]
            writing = (isinstance(flags, int) and flags & write_flags) or (
                isinstance(mode, str) and any(c in mode for c in "wax+"))
            if writing and not inside(path):
                raise PermErr("sandbox: writing %r is not allowed" % (path,))
        else:
            spec = path_events.get(event)
            if spec is not None:
                indices, dir_fd_index = spec
                if dir_fd_index is not None and len(args) > dir_fd_index:
                    dfd = args[dir_fd_index]
                    if dfd is not None and dfd != -1:
                        raise PermErr("sandbox: %s with dir_fd is not allowed" % event)
                for i in indices:
                    if i < len(args) and not inside(args[i]):
                        raise PermErr("sandbox: %s on %r is not allowed" % (event, args[i]))

    # _posixsubprocess.fork_exec has no audit event. Load it now and replace it, so that subprocess (and
    # asyncio, which imports it) still import but cannot start a process; re-importing it is blocked.
    import _posixsubprocess

    def fork_exec(*args, **kwargs):
        raise PermErr("sandbox: _posixsubprocess.fork_exec is not allowed")

    _posixsubprocess.fork_exec = fork_exec
    sys.addaudithook(hook)
    del hook
    marker = b"\n${MARKER_PREFIX}" + nonce + b"\n"
    del nonce
    code = compile(source, prog_path, "exec")
    del source
    scope = {"__name__": "__sandbox__", "__builtins__": __builtins__}
    exec(code, scope)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    _write(1, marker)
    _exit(0)

_maspo_sandbox()
`
