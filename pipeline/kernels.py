"""Fresh kernels forked from a pre-imported template process; papermill stays the executor.

A papermill run spends most of its time starting a Python kernel and importing pandas, matplotlib and seaborn.
Here a long-lived template process (`pipeline.kernel_template`) imports them once; every notebook then gets a
*fresh* kernel forked from it, used for that one notebook and discarded, so nothing leaks between reports.

Use: ``papermill.execute_notebook(..., kernel_manager_class=kernel_manager_class(fork))`` (when not None), and
``with template_scope() as endpoint: ...`` around a batch so the template is stopped when the batch ends (pool
workers call ``attach(endpoint)`` to share it). Without a scope the template starts on first use and stops at exit.

Kernels bind free ports themselves (port 0) and report them, so parallel runs cannot race on ports. Forking is
off with ``CTG_KERNEL_FORK=0`` (or ``fork=False``, from params.yaml ``execution.fork``) and where fork/pidfd are
unavailable; if the template cannot be reached, a plain kernel is started instead.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import pathlib
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Iterator

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from traitlets import default

log = logging.getLogger(__name__)

FORK_ENV = "CTG_KERNEL_FORK"
TEMPLATE_TIMEOUT = 120.0  # a first request waits for the template's imports
KERNEL_START_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0
PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")
_OFF = {"0", "false", "no", "off", "non"}
_PACKAGE_PARENT = pathlib.Path(__file__).resolve().parent.parent


class TemplateUnavailable(RuntimeError):
    """The template could not be reached; no kernel was started (a plain kernel is used instead)."""


class KernelRefused(TemplateUnavailable):
    """The template declined this kernel (its PYTHON* environment differs from the template's)."""


class KernelStartError(RuntimeError):
    """A kernel died or hung while starting (worth a retry, like papermill's own start errors)."""


@cache
def supported() -> bool:
    """Linux with fork, pidfds and descriptor passing."""
    if not (sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "send_fds")):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except (AttributeError, OSError):
        return False
    return hasattr(signal, "pidfd_send_signal")


def fork_enabled(setting: bool | None = None) -> bool:
    """Whether kernels are forked: CTG_KERNEL_FORK (0/1) overrides `setting` (params.yaml execution.fork), else on."""
    env = os.environ.get(FORK_ENV, "").strip().lower()
    wanted = env not in _OFF if env else setting is not False
    return wanted and supported()


def kernel_manager_class(fork: bool | None = None) -> type[AsyncKernelManager] | None:
    """The `kernel_manager_class` to give papermill, or None for its plain kernel."""
    return ForkingKernelManager if fork_enabled(fork) else None


# --------------------------------------------------------------------------- template process lifecycle


@dataclass(frozen=True)
class Endpoint:
    """Where to request kernels, and the interpreter options the template (hence every kernel) runs with."""

    address: str
    options: tuple[str, ...] = ()


class Template:
    """A template process started by this process; kernels are requested on its Unix socket."""

    def __init__(self, options: tuple[str, ...] = ()) -> None:
        self.owner = os.getpid()
        self.directory = tempfile.mkdtemp(prefix="ctg-kernels-")
        self.endpoint = Endpoint(os.path.join(self.directory, "template.sock"), tuple(options))
        # The owner creates the listening socket so that requests queue while the template is importing.
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            listener.bind(self.endpoint.address)
            listener.listen(64)
            self.process = subprocess.Popen(
                [sys.executable, *options, "-m", "pipeline.kernel_template", str(listener.fileno()), str(self.owner)],
                pass_fds=[listener.fileno()],
                cwd=_PACKAGE_PARENT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal reaches the client, which stops the template
            )
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        finally:
            listener.close()  # only the template holds it now: if the template dies, connections fail at once
        _RUNNING.add(self)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        """True while the template runs (always True seen from a forked copy of the owner, which cannot wait on it)."""
        return os.getpid() != self.owner or self.process.poll() is None

    def stop(self) -> None:
        """Terminate the template (it kills kernels left behind) and remove its socket; only in the owner."""
        if os.getpid() != self.owner:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
        _RUNNING.discard(self)


_RUNNING: set[Template] = set()
atexit.register(lambda: [template.stop() for template in list(_RUNNING)])


@dataclass
class _State:
    template: Template | None = None  # started by this process
    endpoint: Endpoint | None = None  # own template's, or attached
    disabled: bool = False  # no template (failed, or attached to none): plain kernels


_state = _State()


def template_endpoint(options: tuple[str, ...] = ()) -> Endpoint | None:
    """The template for kernels run with these interpreter options, started on first use; None = plain kernel."""
    if _state.disabled:
        return None
    if _state.template is not None and not _state.template.alive():
        log.warning("kernel template (pid %d) has exited: plain kernels from now on", _state.template.pid)
        _state.disabled = True
        return None
    if _state.endpoint is None:
        try:
            _state.template = Template(options)
        except OSError as exc:
            log.warning("kernel template could not start (%s): plain kernels", exc)
            _state.disabled = True
            return None
        _state.endpoint = _state.template.endpoint
    return _state.endpoint if _state.endpoint.options == tuple(options) else None


def template_pid() -> int | None:
    """Pid of the template this process started and still uses, if any."""
    return _state.template.pid if _state.template is not None else None


@contextmanager
def template_scope(enabled: bool = True, kernel_name: str = "python3") -> Iterator[Endpoint | None]:
    """Give the block its own template, started now and stopped at exit; yields its endpoint (None = plain).
    Nested in a block that already has a live template (same interpreter options), the block shares it.

    The template runs with the interpreter options of the kernel spec `kernel_name`; pool workers share it
    with `attach(endpoint)`.
    """
    global _state
    options = _spec_options(kernel_name) if enabled else None
    if options is None:
        yield None
        return
    if _state.template is not None and _state.template.alive() and _state.endpoint.options == tuple(options):
        yield _state.endpoint  # inside a scope that already started one (e.g. `ctg run`): share it
        return
    previous, _state = _state, _State()
    try:
        yield template_endpoint(options)
    finally:
        scoped, _state = _state, previous
        if scoped.template is not None:
            scoped.template.stop()


def attach(endpoint: Endpoint | None) -> None:
    """Use a template owned by another process (e.g. the parent of a worker pool); None = plain kernels."""
    global _state
    _state = _State(endpoint=endpoint, disabled=endpoint is None)


def _python_options(cmd: list[str]) -> tuple[str, ...] | None:
    """Interpreter options of `<this python> [options] -m ipykernel_launcher ...`; None for any other command."""
    if not cmd or os.path.abspath(cmd[0]) != os.path.abspath(sys.executable) or "-m" not in cmd:
        return None
    module = cmd.index("-m")
    return tuple(cmd[1:module]) if cmd[module + 1 : module + 2] == ["ipykernel_launcher"] else None


def _spec_options(kernel_name: str) -> tuple[str, ...] | None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        argv = list(KernelSpecManager().get_kernel_spec(kernel_name).argv)
    except NoSuchKernel:
        return None
    if argv and argv[0] in {"python", f"python{sys.version_info[0]}", "python%i.%i" % sys.version_info[:2]}:
        argv[0] = sys.executable  # as jupyter_client does
    return _python_options(argv)


# --------------------------------------------------------------------------- forked kernel processes


class ForkedKernel:
    """What jupyter_client uses of subprocess.Popen, for a kernel that is the template's child, not ours.

    Liveness and signals go through a pidfd. The exit status belongs to the template: `returncode` is 0 once the
    kernel has exited.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int, pidfd: int, ports: dict[str, int] | None = None) -> None:
        self.pid = pid
        self.ports = ports or {}
        self.returncode: int | None = None
        self._pidfd = pidfd
        weakref.finalize(self, os.close, pidfd)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout or 0)
            self.returncode = 0
        return self.returncode

    async def wait_async(self) -> int:
        if self.returncode is None:
            await _readable(self._pidfd)
            self.returncode = 0
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            signal.pidfd_send_signal(self._pidfd, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


async def spawn(address: str, argv: list[str], env: dict[str, str], cwd: str) -> ForkedKernel:
    """Ask the template at `address` for a kernel running `argv` (an ipykernel_launcher command line)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.setblocking(False)
    try:
        try:
            await asyncio.get_running_loop().sock_connect(sock, address)
            stdin = os.open(os.devnull, os.O_RDONLY)
            me = os.pidfd_open(os.getpid())
            try:
                request = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
                socket.send_fds(sock, [request], [stdin, 1, 2, me])  # stdout, stderr: ours, as Popen would
            finally:
                os.close(stdin)
                os.close(me)
            hello, fds = await _receive(sock, TEMPLATE_TIMEOUT)
            if "refused" in hello:
                raise KernelRefused(hello["refused"])
            kernel = ForkedKernel(hello["pid"], fds[0])
        except KernelRefused:
            raise
        except (OSError, EOFError, TimeoutError, ValueError, KeyError, IndexError) as exc:
            raise TemplateUnavailable(f"{type(exc).__name__}: {exc}") from exc
        try:
            reply, _ = await _receive(sock, KERNEL_START_TIMEOUT)
        except (OSError, EOFError, TimeoutError, ValueError) as exc:
            kernel.kill()
            raise KernelStartError(f"forked kernel {kernel.pid} died while starting ({type(exc).__name__})") from exc
        if "ports" not in reply:
            kernel.kill()
            raise KernelStartError(f"forked kernel {kernel.pid} failed to start:\n{reply.get('error')}")
        kernel.ports = reply["ports"]
        return kernel
    finally:
        sock.close()


async def _receive(sock: socket.socket, timeout: float) -> tuple[dict, list[int]]:
    async with asyncio.timeout(timeout):
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(sock, 65536, 1)
                break
            except BlockingIOError:
                await _readable(sock.fileno())
    if not data:
        raise EOFError("connection closed")
    return json.loads(data), fds


async def _readable(fd: int) -> None:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
    try:
        await ready
    finally:
        loop.remove_reader(fd)


# --------------------------------------------------------------------------- jupyter_client plug-in


def _set_ports(connection_file: str, ports: dict[str, int]) -> None:
    path = pathlib.Path(connection_file)
    info = json.loads(path.read_text())
    info.update(ports)
    path.write_text(json.dumps(info, indent=1))  # keeps the file's 0600 mode


async def _ports_written(connection_file: str, process: Any) -> dict[str, int]:
    """Wait until a plain kernel has written the ports it bound into its connection file."""
    try:
        async with asyncio.timeout(KERNEL_START_TIMEOUT):
            while True:
                try:
                    info = json.loads(pathlib.Path(connection_file).read_text())
                    if all(info.get(name) for name in PORT_NAMES):
                        return {name: info[name] for name in PORT_NAMES}
                except (OSError, ValueError):
                    pass  # being written
                if process.poll() is not None:
                    raise KernelStartError("kernel died before writing its connection file")
                await asyncio.sleep(0.01)
    except TimeoutError as exc:
        raise KernelStartError("kernel did not write its connection file in time") from exc


class ForkingProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernels are forked from the template and bind their own ports."""

    _launched = False

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> dict:
        km = self.parent
        if not self._launched:  # a restarted kernel must come back on the ports its clients know
            _set_ports(km.connection_file, dict.fromkeys(PORT_NAMES, 0))  # the kernel binds free ports: no race
            self._launched = True
        kernel = await self._fork(cmd, kwargs)
        if kernel is None:
            await super().launch_kernel(cmd, **kwargs)
            ports = await _ports_written(km.connection_file, self.process)
        else:
            self.process = kernel
            self.pid = self.pgid = kernel.pid  # the kernel leads its own session, like a plain one
            self.cwd = kwargs.get("cwd", pathlib.Path.cwd())
            ports = kernel.ports
        for name in PORT_NAMES:
            setattr(km, name, ports[name])
        self.connection_info = km.get_connection_info()
        return self.connection_info

    async def _fork(self, cmd: list[str], kwargs: dict[str, Any]) -> ForkedKernel | None:
        """A forked kernel for an ipykernel command line with default stdio, or None (start a plain one)."""
        options = _python_options(cmd)
        if options is None or any(kwargs.get(stream) is not None for stream in ("stdin", "stdout", "stderr")):
            return None
        endpoint = template_endpoint(options)
        if endpoint is None:
            return None
        env = dict(kwargs.get("env") or os.environ)
        try:
            return await spawn(endpoint.address, cmd, env, str(kwargs.get("cwd") or os.getcwd()))
        except KernelRefused as exc:
            log.info("kernel template declined (%s): plain kernel", exc)
            return None
        except TemplateUnavailable as exc:
            log.warning("kernel template unavailable (%s): plain kernels from now on", exc)
            _state.disabled = True
            return None


class ForkingKernelManager(AsyncKernelManager):
    """papermill's `kernel_manager_class`: an AsyncKernelManager using ForkingProvisioner."""

    @default("cache_ports")
    def _default_cache_ports(self) -> bool:
        return False  # kernels choose their ports

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = ForkingProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)

    pre_start_kernel = _async_pre_start_kernel

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        process = getattr(self.provisioner, "process", None)
        if isinstance(process, ForkedKernel):
            await process.wait_async()  # woken by the pidfd instead of polling every 0.1 s
        else:
            await super()._async_wait(pollinterval)
