/**
 * The Python prelude every sandboxed program runs under. It is passed to the interpreter with `-c`
 * (so it is not a file the candidate can read or rewrite) and receives:
 *   argv[1] the address-space limit in bytes, argv[2] the CPU limit in seconds, argv[3] the file-size
 *   limit in bytes, argv[4] how many more processes the user may own;
 *   stdin: `<nonce>\n<byte length of the program>\n<program><tests>`, read once before anything runs.
 * The sources arrive on stdin, not as files in the run directory, so the candidate cannot read the
 * tests (and hard-code their answers) from disk.
 * It applies resource limits, installs an audit hook (which later code cannot remove), rewrites the
 * tests' comparisons so that they only accept values whose behaviour comes from Python itself, executes
 * the program, then the tests, and only if both return normally writes the completion marker and exits 0.
 */
export const SETUP_ERROR_PREFIX = "MASPO_SANDBOX_SETUP_ERROR"
export const SETUP_ERROR_EXIT = 86
export const MARKER_PREFIX = "MASPO_SANDBOX_DONE_"
/** The name the rewritten tests call; it lives only in the tests' own globals. */
export const CHECKED_NAME = "_maspo_checked_"

export const HARNESS = String.raw`
import sys, os

def _maspo_sandbox():
    _write = os.write
    _exit = os._exit
    try:
        import resource, builtins
        data = sys.stdin.buffer.read()
        nonce, size, rest = data.split(b"\n", 2)
        nonce = nonce.strip()
        size = int(size)
        source = rest[:size].decode("utf-8")
        tests = rest[size:].decode("utf-8")
        del data, rest
        _fd = os.open(os.devnull, os.O_RDONLY)
        os.dup2(_fd, 0)
        os.close(_fd)
        sys.stdin = open(os.devnull, "r")
        root = os.path.realpath(os.getcwd())
        os.environ.pop("PWD", None)  # bwrap always sets it; the environment is exactly what Node passed
        mem, cpu, fsize, nproc_extra = (int(v) for v in sys.argv[1:5])
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
        # A sub-interpreter has none of this interpreter's audit hooks: from it everything above would
        # be allowed. Every way to create one (_xxsubinterpreters, _testcapi.run_in_subinterp) raises this.
        "cpython.PyInterpreterState_New",
    ))
    # Modules that start processes or interpreters, or reach raw memory; importing them is refused,
    # and so is re-creating them (or posix/_signal, whose dangerous functions are removed below)
    # through the low-level _imp functions, which have no audit event.
    blocked_imports = frozenset((
        "_posixsubprocess", "_ctypes", "_xxsubinterpreters", "_xxinterpchannels", "_interpreters",
        "_interpchannels", "_interpqueues", "_testcapi", "_testinternalcapi", "_testmultiphase",
        "_testsinglephase", "_testimportmultiple", "_testbuffer", "_testclinic", "_xxtestfuzz",
    ))
    no_recreate = blocked_imports | frozenset(("posix", "_signal", "_imp"))
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

    def refuse(name):
        def refused(*args, **kwargs):
            raise PermErr("sandbox: %s is not allowed" % name)
        return refused

    # Functions with no audit event. _posixsubprocess.fork_exec starts processes: load the module now
    # and replace it, so that subprocess (and asyncio, which imports it) still import but start nothing.
    # pidfd_open + pidfd_send_signal (which also takes a /proc/<pid> directory fd) signal any process,
    # e.g. the evaluating parent, without the os.kill event.
    import _posixsubprocess, posix, signal, _signal, _imp
    _posixsubprocess.fork_exec = refuse("_posixsubprocess.fork_exec")
    for module, name in ((posix, "pidfd_open"), (os, "pidfd_open"), (_signal, "pidfd_send_signal"),
                         (signal, "pidfd_send_signal")):
        if hasattr(module, name):
            setattr(module, name, refuse(module.__name__ + "." + name))

    def guard(original):
        def guarded(spec, *args):
            name = getattr(spec, "name", None) if not isinstance(spec, type(sys)) else spec.__name__
            if name in no_recreate:
                raise PermErr("sandbox: loading %s again is not allowed" % name)
            return original(spec, *args)
        return guarded

    for name in ("create_builtin", "create_dynamic", "exec_builtin", "exec_dynamic"):
        setattr(_imp, name, guard(getattr(_imp, name)))

    # The tests are parsed and rewritten now, before the candidate runs (it could replace the ast
    # module); they run in their own globals with a copy of the builtins taken before the candidate ran.
    builtins_copy = dict(builtins.__dict__)
    tests_code = compile(rewrite_tests(tests), "tests.py", "exec") if tests.strip() else None
    checked = make_checked(os.path.dirname(os.__file__) + sep)

    sys.addaudithook(hook)
    del hook
    marker = b"\n${MARKER_PREFIX}" + nonce + b"\n"
    del nonce
    code = compile(source, "program.py", "exec")
    del source, tests
    scope = {"__name__": "__sandbox__", "__builtins__": __builtins__}
    exec(code, scope)
    if tests_code is not None:
        tests_scope = dict(scope)
        tests_scope["__builtins__"] = builtins_copy
        tests_scope["${CHECKED_NAME}"] = checked
        exec(tests_code, tests_scope)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass
    _write(1, marker)
    _exit(0)


def rewrite_tests(tests):
    """Every value an assert (or a comparison anywhere in the tests) reads goes through the check:
    names, attributes, subscripts and call results, but not the callee itself."""
    import ast

    def wrap(node):
        return ast.copy_location(
            ast.Call(func=ast.Name(id="${CHECKED_NAME}", ctx=ast.Load()), args=[node], keywords=[]), node)

    class Checked(ast.NodeTransformer):
        def visit_Call(self, node):
            node.func = self.generic_visit(node.func)
            node.args = [self.visit(a) for a in node.args]
            node.keywords = [self.visit(k) for k in node.keywords]
            return wrap(node)

        def visit_value(self, node):
            node = self.generic_visit(node)
            return wrap(node) if isinstance(getattr(node, "ctx", None), ast.Load) else node

        visit_Name = visit_Attribute = visit_Subscript = visit_value

    class Tests(ast.NodeTransformer):
        def visit_Assert(self, node):
            node.test = Checked().visit(node.test)
            return node

        def visit_Compare(self, node):
            return Checked().visit(node)

    tree = Tests().visit(ast.parse(tests, "tests.py"))
    return ast.fix_missing_locations(tree)


def make_checked(stdlib):
    """A value is accepted if every special method of its type (and of everything it contains) comes
    from Python itself: C types, or methods defined in the standard library under their own name. An
    object whose class defines __eq__ to return True, or fakes __bool__, __str__, arithmetic or its
    __class__, is refused, so it cannot pass an assert it did not earn."""
    _type, _id, _issub, _getattr = type, id, issubclass, object.__getattribute__
    tflags = type.__dict__["__flags__"].__get__
    tdict = type.__dict__["__dict__"].__get__
    tmro = type.__dict__["__mro__"].__get__
    tname = type.__dict__["__qualname__"].__get__
    dict_keys, dict_values, dict_dict = dict.keys, dict.values, dict
    immutable = 1 << 8
    function = _type(make_checked)
    c_members = frozenset((
        _type(object.__init__), _type(str.join), _type(dict.__dict__["fromkeys"]),
        _type(type.__dict__["__dict__"]), _type(type.__dict__["__basicsize__"]), _type(None),
    ))
    wrappers = (staticmethod, classmethod)
    atoms = frozenset((int, float, str, bool, bytes, complex, _type(None)))
    from _collections import deque
    containers = (list, tuple, set, frozenset, deque, _type({}.keys()), _type({}.values()), _type({}.items()))
    harmless = frozenset((
        "__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__slots__", "__annotations__",
        "__init__", "__new__", "__init_subclass__", "__class_getitem__", "__match_args__",
        "__dataclass_fields__", "__dataclass_params__", "__orig_bases__", "__parameters__",
        "__abstractmethods__", "__post_init__", "__set_name__", "__getnewargs__", "__getnewargs_ex__",
        "__reduce__", "__reduce_ex__", "__getstate__", "__setstate__", "__copy__", "__deepcopy__",
        "__del__", "__enter__", "__exit__", "__firstlineno__", "__static_attributes__", "__type_params__",
        "__call__",
    ))

    modules = sys.modules

    def method_ok(owner, name, v):
        t = _type(v)
        if t in c_members:
            return True
        if t in wrappers:
            v = v.__func__
            t = _type(v)
        elif t is property:
            v = v.fget
            t = _type(v)
        if t is not function:
            return False
        code = v.__code__
        f = code.co_filename
        if not (f.startswith(stdlib) or f.startswith("<frozen ")):
            return False
        # Defined under its own name (co_name), or wrapped by a decorator that kept it (reprlib's
        # recursive_repr copies __qualname__).
        if code.co_name == name or v.__qualname__ == tname(owner) + "." + name:
            return True
        # functools.total_ordering's _gt_from_lt & co. only combine the class's other comparisons,
        # which are checked in their own right.
        if (v.__globals__.get("__name__") == "functools" and code.co_name[:1] == "_"
                and code.co_name[1:3] == name[2:4] and code.co_name[3:9] == "_from_"):
            return True
        # A helper-made method (Fraction's arithmetic from _operator_fallbacks): accepted on the
        # standard-library class it was made for, not when a program binds e.g. typing.cast as __eq__.
        module = modules.get(tdict(owner).get("__module__"))
        return (module is not None and v.__globals__.get("__name__") == module.__name__
                and module.__dict__.get(tname(owner)) is owner)

    def bad_member(t):
        """The first special method of t (or of its metaclass) that the program defined, else None."""
        if tflags(t) & immutable:
            return None
        meta = _type(t)
        if meta is not type:
            found = bad_member(meta)
            if found is not None:
                return "metaclass " + found
        for k in tmro(t):
            if tflags(k) & immutable:
                continue
            for name, v in tdict(k).items():
                special = name == "mro" or (name[:2] == "__" and name[-2:] == "__" and name not in harmless)
                if special and not method_ok(k, name, v):
                    return name
        return None

    def checked(value):
        stack = [value]
        seen = set()
        verdicts = {}
        while stack:
            v = stack.pop()
            t = _type(v)
            if t in atoms:
                continue
            if _id(v) in seen:
                continue
            seen.add(_id(v))
            verdict = verdicts.get(_id(t), 0)
            if verdict == 0:
                verdict = verdicts[_id(t)] = bad_member(t)
            if verdict is not None:
                raise AssertionError(
                    "sandbox: the tests read a %s whose %s does not come from Python itself (the "
                    "standard library); a value must compare and behave as Python's own types do" % (tname(t), verdict))
            if _issub(t, dict_dict):
                stack.extend(dict_keys(v))
                stack.extend(dict_values(v))
            elif _issub(t, containers):
                stack.extend(v)
            if not tflags(t) & immutable:
                try:
                    d = _getattr(v, "__dict__")
                except AttributeError:
                    d = None
                if _type(d) is dict_dict:
                    stack.extend(dict_values(d))
        return value

    return checked


_maspo_sandbox()
`
