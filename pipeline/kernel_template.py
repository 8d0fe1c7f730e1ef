"""Template process: imports the notebooks' heavy libraries once, then forks one fresh IPython kernel per request.

Started by `pipeline.kernels` (never by hand) as::

    python -m pipeline.kernel_template LISTENER_FD OWNER_PID

LISTENER_FD is a listening AF_UNIX SOCK_SEQPACKET socket created by the owner (so clients can connect before the
imports are done: their requests wait in the backlog). The template exits when it receives SIGTERM or when the
owner process dies.

Protocol, one connection per kernel:

- client -> template: one JSON message ``{"argv": [...], "env": {...}, "cwd": "..."}`` carrying four descriptors:
  the kernel's stdin, stdout, stderr and a pidfd of the client itself;
- forked kernel -> client: ``{"pid": N}`` carrying a pidfd of the kernel, then ``{"ports": {...}}`` once the kernel
  has bound its sockets (or ``{"error": "..."}``), then end of stream;
- or template -> client: ``{"refused": "..."}`` when the request's PYTHON* variables differ from the template's
  (a fork cannot honour them: the client starts a plain kernel).

The template runs no Python thread, no zmq context and no asyncio loop, so forking it is safe (OpenBLAS' idle
worker threads are handled by OpenBLAS' own fork handlers).
"""

from __future__ import annotations

import ast
import gc
import importlib
import importlib.util
import json
import os
import select
import signal
import socket
import sys
import threading
import traceback
from dataclasses import dataclass
from pathlib import Path

# Modules a report notebook needs, imported once here; a failed import only costs the time saved. Any other module the
# project's notebooks import is added (`notebook_imports`): e.g. seaborn (~1.4 s, scipy.stats) only when a notebook
# imports it — the report notebooks draw with matplotlib alone, and the template is on a rerun's critical path.
PRELOAD = (
    "numpy",
    "pandas",
    "matplotlib",
    "matplotlib.pyplot",
    "pyarrow.parquet",
    "babel",
    "babel.dates",
    "babel.numbers",
    "IPython.display",
    "pipeline.report",
    # what IPKernelApp.initialize imports (debugpy alone takes ~0.2 s)
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.debugger",
    "IPython.core.completerlib",
    "IPython.core.debugger",
    "sqlite3",
)
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")
MAX_REQUEST = 1 << 20
# Handlers a fresh interpreter has, restored in every kernel.
_PRISTINE_SIGNALS = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)}


@dataclass
class Request:
    conn: socket.socket
    argv: list[str]
    env: dict[str, str]
    cwd: str
    fds: list[int]  # stdin, stdout, stderr, client pidfd
    template_pid: int


def warm_up() -> None:
    """Import PRELOAD the way a kernel would (inline matplotlib backend), then freeze the heap for the children."""
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    # debugpy warns at import about frozen modules; in a kernel that lands in the first output, here on stderr
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the kernel will import it itself and show the real error
            print(f"kernel template: preload of {name} skipped ({exc!r})", file=sys.stderr)
    from pipeline.config import NOTEBOOKS_DIR

    for name in notebook_imports(NOTEBOOKS_DIR):
        try:
            if name not in sys.modules and importlib.util.find_spec(name) is not None:
                importlib.import_module(name)
        except Exception:  # noqa: BLE001,S110 - not a module (`from a import function`), or the kernel will say why
            pass
    gc.collect()
    gc.freeze()


def notebook_imports(folder: Path) -> list[str]:
    """The modules the code cells of the notebooks in `folder` import, in order of first appearance: `import a.b`
    gives a.b; `from a import b` gives a and a.b (a.b may be a function, not a module). Lines of IPython magics and
    cells Python cannot parse are skipped; relative imports are ignored."""
    noms: dict[str, None] = {}
    for chemin in sorted(Path(folder).glob("*.ipynb")):
        try:
            cellules = json.loads(chemin.read_text(encoding="utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        for cellule in cellules:
            if cellule.get("cell_type") != "code":
                continue
            source = cellule.get("source", "")
            lignes = (source if isinstance(source, str) else "".join(source)).splitlines()
            try:
                arbre = ast.parse("\n".join(ligne for ligne in lignes if not ligne.lstrip().startswith(("%", "!"))))
            except SyntaxError:
                continue
            for noeud in ast.walk(arbre):
                if isinstance(noeud, ast.Import):
                    noms.update(dict.fromkeys(alias.name for alias in noeud.names))
                elif isinstance(noeud, ast.ImportFrom) and noeud.level == 0 and noeud.module:
                    noms[noeud.module] = None
                    noms.update(dict.fromkeys(f"{noeud.module}.{a.name}" for a in noeud.names if a.name != "*"))
    return list(noms)


def serve(listener: socket.socket, owner: int) -> Request | None:
    """Fork a kernel per request until SIGTERM or the death of the owner (given as a pidfd).

    Returns None in the template (time to stop), or the request in a freshly forked child.
    """
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    children: set[int] = set()
    while not stopping:
        ready, _, _ = select.select([listener, owner, wake_r], [], [], 1.0)
        _reap(children, block=False)
        if owner in ready:
            break
        if wake_r in ready:
            os.read(wake_r, 512)
        if listener not in ready:
            continue
        request = _accept(listener)
        if request is None:
            continue
        for stream in (sys.stdout, sys.stderr):
            if stream:
                stream.flush()
        pid = os.fork()
        if pid == 0:
            signal.set_wakeup_fd(-1)
            for fd in (owner, wake_r, wake_w):
                os.close(fd)
            listener.close()
            return request
        children.add(pid)
        request.conn.close()
        for fd in request.fds:
            os.close(fd)
    for pid in children:  # kernels still alive now have no client left: end them with their process group
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    _reap(children, block=True)
    return None


def _accept(listener: socket.socket) -> Request | None:
    """Read one request; None when it is malformed or refused (the client then starts a plain kernel)."""
    conn, _ = listener.accept()
    conn.settimeout(10)
    fds: list[int] = []
    try:
        data, fds, flags, _ = socket.recv_fds(conn, MAX_REQUEST, 4)
        message = json.loads(data)
        request = Request(conn, list(message["argv"]), dict(message["env"]), str(message["cwd"]), fds, os.getpid())
        if len(fds) != 4 or flags & socket.MSG_TRUNC:
            raise ValueError("incomplete request")
        if _interpreter_env(request.env) != _interpreter_env(os.environ):
            conn.send(json.dumps({"refused": "PYTHON* environment differs from the template's"}).encode())
            raise ValueError("refused")
    except (OSError, ValueError, KeyError, TypeError):
        conn.close()
        for fd in fds:
            os.close(fd)
        return None
    conn.settimeout(None)
    return request


def _interpreter_env(env: dict | os._Environ) -> dict[str, str]:
    """Variables read when the interpreter starts (PYTHONPATH, PYTHONHASHSEED...): a fork cannot change them."""
    return {key: value for key, value in env.items() if key.startswith("PYTHON")}


def _reap(children: set[int], block: bool) -> None:
    for pid in list(children):
        try:
            done, _status, _usage = os.wait4(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done == pid:
            children.discard(pid)


def run_kernel(request: Request) -> None:
    """In the forked child: become a kernel process as `python -m ipykernel_launcher ...` would be."""
    conn = request.conn
    own = os.pidfd_open(os.getpid())
    socket.send_fds(conn, [json.dumps({"pid": os.getpid()}).encode()], [own])
    os.close(own)
    try:
        app = _become_kernel(request, conn)
    except BaseException:
        if conn.fileno() >= 0:
            conn.send(json.dumps({"error": traceback.format_exc()}).encode())
        raise
    app.start()
    _exit_without_teardown()


def _become_kernel(request: Request, conn: socket.socket):
    """Process state of a fresh `python -m ipykernel_launcher` run, then IPKernelApp.initialize()."""
    os.setsid()
    for sig, handler in _PRISTINE_SIGNALS.items():
        signal.signal(sig, handler)
    stdin, stdout, stderr, client = request.fds
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
        os.close(fd)
    template = os.pidfd_open(request.template_pid)
    if os.getppid() != request.template_pid:
        raise RuntimeError("the template exited while forking")
    _exit_when_gone([client, template])
    os.environ.clear()
    os.environ.update(request.env)
    os.chdir(request.cwd)
    del sys.path[0]  # the template's own directory; the kernel adds its working directory itself
    import ipykernel_launcher
    import numpy
    from ipykernel.kernelapp import IPKernelApp

    kernel_args = request.argv[request.argv.index("-m") + 2 :]  # after `python [options] -m ipykernel_launcher`
    sys.argv = [ipykernel_launcher.__file__, *kernel_args]
    numpy.random.seed()  # numpy's global generator is not reseeded on fork
    app = IPKernelApp.instance()
    write_connection_file = app.write_connection_file

    def write_and_report(**kwargs: object) -> None:
        """Report the ports as soon as they are bound: the client connects while the shell is being built."""
        write_connection_file(**kwargs)
        conn.send(json.dumps({"ports": {name: getattr(app, name) for name in PORT_NAMES}}).encode())
        conn.close()

    app.write_connection_file = write_and_report
    app.initialize([*kernel_args, f"--IPKernelApp.parent_handle={request.template_pid}"])
    return app


def _exit_without_teardown() -> None:
    """End like the interpreter does (wait for threads, atexit handlers — IPython's clears the user namespace, so user
    objects are finalised —, flush), but skip freeing the heap shared with the template: deallocating it would first
    copy every page (~0.5 s per kernel)."""
    from pipeline import orphans

    orphans.end_process(0, collect=True)


def _exit_when_gone(pidfds: list[int]) -> None:
    """Kill this kernel (and its subprocesses) as soon as its client or the template exits: no orphan kernels."""

    def watch() -> None:
        select.select(pidfds, [], [])
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="ctg-kernel-watch", daemon=True).start()


def _remove_socket(listener: socket.socket) -> None:
    """Remove the socket and its private directory: the owner may have died without cleaning up."""
    path = listener.getsockname()
    if isinstance(path, str) and path:
        for remove, target in ((os.unlink, path), (os.rmdir, os.path.dirname(path))):
            try:
                remove(target)
            except OSError:
                pass


def main(argv: list[str]) -> int:
    listener_fd, owner_pid = int(argv[0]), int(argv[1])
    listener = socket.socket(fileno=listener_fd)
    try:
        owner = os.pidfd_open(owner_pid)
    except ProcessLookupError:
        return 0
    warm_up()
    request = serve(listener, owner)
    if request is None:
        _remove_socket(listener)
        os._exit(0)  # nothing else to finalise; freeing the imported heap would only delay the owner's stop()
    run_kernel(request)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
