"""No test may reach the network: every socket connection or name lookup that is not
local is recorded and refused. conftest imports the pytest hooks below; subprocesses
run through ``python tests/netguard.py MODULE ARGS`` get the guard too (and leave the
collector out of their exit, frozen_imports.py)."""

from __future__ import annotations

import socket

ATTEMPTS: list = []
_LOCAL = {"localhost", "127.0.0.1", "::1", "", None}


class NetworkBlocked(OSError):
    pass


def _is_local(host) -> bool:
    return host in _LOCAL or (isinstance(host, str) and host.startswith("127."))


def install() -> None:
    if getattr(socket.socket.connect, "guarded", False):
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def refuse(what):
        ATTEMPTS.append(what)
        raise NetworkBlocked(f"network access attempted during tests: {what!r}")

    def allowed(sock, address) -> bool:
        if sock.family == getattr(socket, "AF_UNIX", None):
            return True
        return _is_local(address[0] if isinstance(address, tuple) else address)

    def connect(self, address, *args):
        if allowed(self, address):
            return real_connect(self, address, *args)
        refuse(address)

    def connect_ex(self, address, *args):
        if allowed(self, address):
            return real_connect_ex(self, address, *args)
        refuse(address)

    def getaddrinfo(host, *args, **kwargs):
        if _is_local(host):
            return real_getaddrinfo(host, *args, **kwargs)
        refuse(host)

    connect.guarded = True
    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo


def run_module(module: str, argv: list[str]) -> None:
    """Run ``python -m module argv...`` in this process with the guard on."""
    import runpy
    import sys

    install()
    sys.argv = [module, *argv]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


try:
    import pytest
except ImportError:  # run as a launcher where pytest is not installed
    pytest = None

if pytest is not None:

    def pytest_configure(config):
        install()
        config.addinivalue_line("markers", "network_probe: tries the network on purpose, to prove the guard refuses it")

    @pytest.fixture(autouse=True)
    def no_network_attempts(request):
        """Every test, imports included, fails if anything tried the network, even when the
        library swallowed the refusal; only tests marked network_probe may try."""
        # attempts from imports or session fixtures show up here, before the test runs
        assert ATTEMPTS == [], f"network access attempted: {ATTEMPTS}"
        yield
        if request.node.get_closest_marker("network_probe") is None:
            assert ATTEMPTS == [], f"network access attempted: {ATTEMPTS}"
        ATTEMPTS.clear()

    @pytest.fixture
    def network_attempts():
        yield ATTEMPTS


if __name__ == "__main__":
    import sys

    from frozen_imports import freeze_at_exit

    freeze_at_exit()
    run_module(sys.argv[1], sys.argv[2:])
