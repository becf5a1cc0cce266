"""Where a kernel runs: confined by bubblewrap, or as a plain process with limits only.

A notebook is arbitrary code from whoever may publish it. In a bubblewrap sandbox the kernel

- sees the system (`/usr`, `/etc`) and this Python installation read-only, and nothing else
  of the host's files: not `RUNYARD_HOME` (the store, the secret key), not other runs;
- gets a private working directory and `/tmp`, both size-limited tmpfs that vanish with it;
- has its own PID namespace: it cannot see or signal the server, the worker or other runs,
  and everything it starts dies with it (the namespace's init is killed with its group);
- runs as an unprivileged user id of its own when the server runs as root (as the server's
  own user id, mapped in a user namespace, otherwise), with no capabilities;
- keeps the network: notebooks query warehouses and APIs.

Limits (memory, processes, file sizes) are resource limits set by `prlimit` in both kinds;
the runner's resource watch (watch.py) enforces the totals over the kernel's whole process
tree. Both kinds kill the kernel if the thread that started it dies (the server killed -9).

The kernel's runtime directory (connection file, IPC sockets, SQL cells' results) is bound
into the sandbox at the same path, so the runner on the host talks to it as usual.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runyard.kernel.results import KernelLimits

log = logging.getLogger(__name__)

# Inside the sandbox: the kernel's working directory. Outside it, nothing is at this path.
SANDBOX_WORKING_DIRECTORY = "/notebook"

# User ids given to kernels when the server runs as root: one per kernel, so that a process
# limit counts that kernel's processes alone. Far above any real account and any subordinate
# id range that useradd hands out (which start at 100000 and grow by 65536 per user).
_FIRST_KERNEL_UID = 2_000_000_000
_KERNEL_UIDS = 1_000_000

_PROBE_SECONDS = 30.0

# The name of a kernel's own user, when the server runs as root.
KERNEL_USER = "notebook"


class SandboxUnavailable(Exception):
    """`RUNYARD_KERNEL_SANDBOX=bwrap` was asked for and this machine cannot provide it."""


@dataclass(frozen=True)
class KernelCommand:
    """How to start one kernel: `prefix` goes before the kernel's own argv; `cwd` is the
    working directory the kernel sees, `host_cwd` the one to start the prefix in; `env` is
    added to the kernel's environment. `owner` is the user id the kernel runs as, when it
    is not this process's: files the kernel must read are handed to it."""

    prefix: list[str]
    cwd: str
    host_cwd: str
    env: dict[str, str]
    owner: int | None = None

    def hand_over(self, path: str) -> None:
        """Make `path` (created by this process) the kernel's."""
        if self.owner is not None:
            os.chown(path, self.owner, self.owner)


class Sandbox:
    """Confines kernels with bubblewrap. Build it with `sandbox_for`, which checks it works."""

    name = "bwrap"

    def __init__(
        self, hidden_paths: Sequence[str | os.PathLike[str]] = (), *, network: bool = True
    ) -> None:
        self._bwrap = shutil.which("bwrap") or "bwrap"
        # Without it the kernel has only loopback of its own: no warehouse, no API, but
        # also no service of the host's that trusts local connections.
        self.network = network
        self._as_root = os.geteuid() == 0
        self._hidden = [str(Path(p).resolve()) for p in hidden_paths]
        self._lock = threading.Lock()
        self._next_uid = (os.getpid() % 4096) * 244  # spreads processes over the range

    def command(
        self, runtime_dir: str, limits: KernelLimits, work_dir: str | None = None
    ) -> KernelCommand:
        """The prefix that starts a kernel inside a fresh sandbox.

        `runtime_dir` is bound read-write at its own path (and handed to the kernel's user);
        `work_dir`, if given, is bound read-write as the working directory instead of a
        fresh tmpfs (for callers that want the files afterwards).
        """
        args = [
            self._bwrap,
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            *([] if self.network else ["--unshare-net"]),
            "--hostname",
            "runyard-kernel",
            # Kills the sandbox when bwrap dies, and bwrap when the thread that started it
            # does: a kernel never outlives its server.
            "--die-with-parent",
            # The kernel gets a session of its own: it cannot push input to a terminal.
            "--new-session",
        ]
        mounts = _Mounts()
        mounts.bind("/usr")
        mounts.bind("/etc")
        # /etc/resolv.conf is often a link out of /etc (systemd-resolved's, in /run):
        # without its target, names do not resolve.
        resolver = os.path.realpath("/etc/resolv.conf")
        if not resolver.startswith(("/etc/", "/usr/")) and os.path.isfile(resolver):
            mounts.bind(resolver)
        for link in ("/bin", "/lib", "/lib64", "/sbin"):
            if os.path.islink(link):
                mounts.symlink(os.readlink(link), link)
            elif os.path.isdir(link):
                mounts.bind(link)
        mounts.special("--proc", "/proc")
        mounts.special("--dev", "/dev")
        files_bytes = None if limits.max_files_mb is None else limits.max_files_mb * 1024 * 1024
        # Before anything inside /tmp is bound (a venv or the runtime folder may live there).
        mounts.tmpfs("/tmp", "1777", files_bytes)
        # POSIX shared memory and semaphores (multiprocessing, joblib) live in /dev/shm.
        mounts.tmpfs("/dev/shm", "1777", files_bytes)
        for path in _python_paths():
            mounts.bind(path)
        if work_dir is None:
            cwd = SANDBOX_WORKING_DIRECTORY
            mounts.tmpfs(cwd, "0777", files_bytes)
        else:
            cwd = work_dir
            mounts.bind(work_dir, writable=True)
        mounts.bind(runtime_dir, writable=True)
        shown = ["/usr", "/etc", *_python_paths(), runtime_dir]
        if work_dir is not None:
            shown.append(work_dir)
        for hidden in self._hidden:
            # Lies inside a folder shown above (a venv in RUNYARD_HOME, say): an empty tmpfs
            # over it hides it.
            inside = any(hidden == p or hidden.startswith(p.rstrip(os.sep) + os.sep) for p in shown)
            if inside and os.path.isdir(hidden):
                mounts.tmpfs(hidden, "0755", None)
        args += mounts.args
        args += ["--chdir", cwd]
        # The kernel's parent in its PID namespace is bwrap's init, pid 1: with the server's
        # pid from jupyter_client, ipykernel would take that for its parent's death and exit.
        # Its life is bound to the server's by --die-with-parent instead.
        args += ["--setenv", "JPY_PARENT_PID", "1"]
        uid = None
        if self._as_root:
            uid = self._kernel_uid()
            os.chown(runtime_dir, uid, uid)
            if work_dir is not None:
                os.chown(work_dir, uid, uid)
            # The kernel's user has a name (getpass.getuser, drivers' default user name):
            # the host's passwd and group files with one more line each.
            for name, line in (
                ("passwd", f"{KERNEL_USER}:x:{uid}:{uid}:Runyard notebook:/tmp:/usr/sbin/nologin"),
                ("group", f"{KERNEL_USER}:x:{uid}:"),
            ):
                copy = os.path.join(runtime_dir, name)
                Path(copy).write_text(_read_or_empty(f"/etc/{name}") + line + "\n")
                args += ["--ro-bind", copy, f"/etc/{name}"]
            # bwrap as root needs no user namespace; setpriv drops to the kernel's own user
            # inside, after the mounts, and nothing can get root back (no new privileges).
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--"]
            args += [
                "setpriv",
                f"--reuid={uid}",
                f"--regid={uid}",
                "--clear-groups",
                "--no-new-privs",
                "--inh-caps=-all",
                "--bounding-set=-all",
                "--",
            ]
        else:
            args += ["--unshare-user", "--"]
        args += _prlimit(limits, own_user=self._as_root)
        # Only /tmp is writable (TMPDIR might name a folder of the host's).
        env = {"HOME": "/tmp", "TMPDIR": "/tmp"}
        if uid is not None:
            env.update(USER=KERNEL_USER, LOGNAME=KERNEL_USER)
        return KernelCommand(prefix=args, cwd=cwd, host_cwd=runtime_dir, env=env, owner=uid)

    def _kernel_uid(self) -> int:
        with self._lock:
            uid = _FIRST_KERNEL_UID + self._next_uid % _KERNEL_UIDS
            self._next_uid += 1
            return uid


class NoSandbox:
    """Runs kernels as plain processes of the server's user: limits, but no isolation."""

    name = "none"

    def command(
        self, runtime_dir: str, limits: KernelLimits, work_dir: str | None = None
    ) -> KernelCommand:
        """The prefix that starts a kernel with limits; `work_dir` (or a temporary
        directory inside `runtime_dir`, removed with it) is its working directory."""
        if work_dir is None:
            work_dir = os.path.join(runtime_dir, "work")
            os.mkdir(work_dir, 0o700)
        # The process limit is left out: it would count every process of the server's user.
        prefix = ["setpriv", "--pdeathsig", "KILL", "--", *_prlimit(limits, own_user=False)]
        return KernelCommand(prefix=prefix, cwd=work_dir, host_cwd=work_dir, env={})


KernelSandbox = Sandbox | NoSandbox


def sandbox_for(
    mode: Literal["auto", "bwrap", "none"],
    hidden_paths: Sequence[str | os.PathLike[str]] = (),
    *,
    network: bool = True,
) -> tuple[KernelSandbox, str | None]:
    """The sandbox for `mode`, and a warning to show if `auto` had to fall back to none.

    `hidden_paths` (RUNYARD_HOME, the store's folder) must stay out of a kernel's view
    even if they lie inside a directory the sandbox shows. Without `network` kernels get a
    network namespace of their own (loopback only). Raises SandboxUnavailable when `bwrap`
    was asked for and does not work here, or when no network was asked for without it.
    """
    if mode == "none":
        if not network:
            raise SandboxUnavailable(
                "RUNYARD_KERNEL_NETWORK=none needs the bubblewrap sandbox; "
                "RUNYARD_KERNEL_SANDBOX is none"
            )
        return NoSandbox(), None
    sandbox = Sandbox(hidden_paths, network=network)
    problem = _probe(sandbox)
    if problem is None:
        return sandbox, None
    if mode == "bwrap" or not network:
        raise SandboxUnavailable(
            f"RUNYARD_KERNEL_SANDBOX={mode}"
            f"{'' if network else ' with RUNYARD_KERNEL_NETWORK=none'}, but kernels cannot be "
            f"sandboxed here: {problem}. "
            "Install bubblewrap (Debian: apt-get install bubblewrap) and allow unprivileged "
            "user namespaces, or set RUNYARD_KERNEL_SANDBOX=none to run notebooks unconfined."
        )
    warning = (
        f"Kernels run WITHOUT a sandbox: {problem}. Notebooks can read what this server's "
        "user can read (its store and secret key included). Install bubblewrap (Debian: "
        "apt-get install bubblewrap) to confine them; see docs/security.md. Set "
        "RUNYARD_KERNEL_SANDBOX=none to silence this warning."
    )
    return NoSandbox(), warning


_probed: dict[tuple[bool, bool], str | None] = {}
_probe_lock = threading.Lock()


def _probe(sandbox: Sandbox) -> str | None:
    """Whether this Python starts in the sandbox: None if it does, else why not. Asked
    once per process (whether bwrap works does not change while it runs)."""
    with _probe_lock:
        key = (os.geteuid() == 0, sandbox.network)
        if key not in _probed:
            _probed[key] = _first_probe(sandbox)
        return _probed[key]


def _first_probe(sandbox: Sandbox) -> str | None:
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed"
    runtime_dir = tempfile.mkdtemp(prefix=f"runyard-kernel-{os.getpid()}-")
    try:
        command = sandbox.command(runtime_dir, KernelLimits())
        argv = [*command.prefix, sys.executable, "-c", "import os; os.listdir('.')"]
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                timeout=_PROBE_SECONDS,
                cwd=runtime_dir,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"bwrap could not be started ({exc})"
        if done.returncode != 0:
            output = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
            return f"bwrap failed: {output.splitlines()[-1]}"
        return None
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)


def _read_or_empty(path: str) -> str:
    try:
        text = Path(path).read_text()
    except OSError:
        return ""
    return text if text.endswith("\n") or not text else text + "\n"


def _python_paths() -> list[str]:
    """The folders this Python and its packages live in (a venv, the installation it
    points to), under the names they are reached by and their real ones, outermost only."""
    found = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    found |= {os.path.realpath(path) for path in found}
    outside_usr = sorted(p for p in found if p != "/usr" and not p.startswith("/usr/"))
    kept: list[str] = []
    for path in outside_usr:  # sorted: a folder comes before the folders inside it
        if not any(path.startswith(outer + os.sep) for outer in kept):
            kept.append(path)
    return kept


class _Mounts:
    """bwrap's mount arguments, in order. The folders above a mount point are made first,
    world-readable (bwrap would make them 0700, closed to the kernel's user), never twice
    and never over something mounted already."""

    def __init__(self) -> None:
        self.args: list[str] = []
        self._made: set[str] = {"/"}

    def bind(self, path: str, *, writable: bool = False) -> None:
        self._parents_of(path)
        self.args += ["--bind" if writable else "--ro-bind", path, path]
        self._made.add(path)

    def tmpfs(self, path: str, mode: str, size_bytes: int | None) -> None:
        self._parents_of(path)
        self.args += _tmpfs(path, mode, size_bytes)
        self._made.add(path)

    def symlink(self, target: str, path: str) -> None:
        self.args += ["--symlink", target, path]
        self._made.add(path)

    def special(self, option: str, path: str) -> None:
        self.args += [option, path]
        self._made.add(path)

    def _parents_of(self, path: str) -> None:
        ancestors: list[str] = []
        parent = os.path.dirname(path)
        while parent not in self._made and parent not in ("", "/"):
            ancestors.append(parent)
            parent = os.path.dirname(parent)
        for ancestor in reversed(ancestors):
            self.args += ["--perms", "0755", "--dir", ancestor]
            self._made.add(ancestor)


def _tmpfs(path: str, mode: str, size_bytes: int | None) -> list[str]:
    args = ["--perms", mode]
    if size_bytes is not None:
        args += ["--size", str(size_bytes)]
    return [*args, "--tmpfs", path]


def _prlimit(limits: KernelLimits, *, own_user: bool) -> list[str]:
    """`prlimit` arguments setting the limits a single process of the kernel cannot pass
    (soft and hard alike, so the notebook cannot raise them)."""
    args = ["prlimit"]
    if limits.memory_mb is not None:
        # A backstop, not the limit: the watch (watch.py) holds the kernel's resident memory
        # to the limit. The data segment counts what a process reserved, not what it uses
        # (thread stacks, allocator arenas: an idle kernel reserves twice what it uses), so
        # it is given room; an allocation past it fails at once with MemoryError.
        data = (limits.memory_mb * 2 + 512) * 1024 * 1024
        args.append(f"--data={data}:{data}")
    if limits.max_files_mb is not None:
        size = limits.max_files_mb * 1024 * 1024
        args.append(f"--fsize={size}:{size}")
    if own_user and limits.max_processes is not None:
        args.append(f"--nproc={limits.max_processes}:{limits.max_processes}")
    return [*args, "--"]
