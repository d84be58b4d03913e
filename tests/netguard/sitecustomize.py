"""A network guard for tests/test_security.py: with this folder on PYTHONPATH, Python imports this file at
start-up, and every connection or name lookup that is not loopback (or AF_UNIX) raises PermissionError.

It reaches every Python process of a run: PYTHONPATH is inherited, and the extraction sandbox passes
`sys.path` on as PYTHONPATH. With NETGUARD_LOG set to a folder, each guarded process writes
`<pid>.started` (its argv) and appends every refused call to `<pid>.refused`, so a test can see which
processes were guarded and that nothing was refused. Python-level only: C libraries that open sockets
themselves (and the JVM) are outside it.
"""
from __future__ import annotations

import ipaddress
import json
import os
import socket

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_original = {"connect": socket.socket.connect, "connect_ex": socket.socket.connect_ex,
             "sendto": socket.socket.sendto, "getaddrinfo": socket.getaddrinfo,
             "gethostbyname": socket.gethostbyname, "gethostbyname_ex": socket.gethostbyname_ex}


def is_loopback(host: object) -> bool:
    if host is None:
        return True  # getaddrinfo(None, port): the local host
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").split("%", 1)[0].lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refuse(what: str) -> None:
    log = os.environ.get("NETGUARD_LOG")
    if log:
        with open(os.path.join(log, f"{os.getpid()}.refused"), "a", encoding="utf-8") as handle:
            handle.write(what + "\n")
    raise PermissionError(f"netguard: {what} refused (no network during a run)")


def _check_address(sock: socket.socket, address: object, call: str) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
        _refuse(f"{call} to {address!r}")


def connect(self: socket.socket, address: object) -> None:
    _check_address(self, address, "connect")
    return _original["connect"](self, address)


def connect_ex(self: socket.socket, address: object) -> int:
    _check_address(self, address, "connect_ex")
    return _original["connect_ex"](self, address)


def sendto(self: socket.socket, data: bytes, *args: object) -> int:
    _check_address(self, args[-1], "sendto")  # sendto(data, address) or sendto(data, flags, address)
    return _original["sendto"](self, data, *args)


def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
    if not is_loopback(host):
        _refuse(f"getaddrinfo of {host!r}")
    return _original["getaddrinfo"](host, *args, **kwargs)


def gethostbyname(host: str) -> str:
    if not is_loopback(host):
        _refuse(f"gethostbyname of {host!r}")
    return _original["gethostbyname"](host)


def gethostbyname_ex(host: str) -> tuple:
    if not is_loopback(host):
        _refuse(f"gethostbyname_ex of {host!r}")
    return _original["gethostbyname_ex"](host)


SOCKET_METHODS = {"connect": connect, "connect_ex": connect_ex, "sendto": sendto}
MODULE_FUNCTIONS = {"getaddrinfo": getaddrinfo, "gethostbyname": gethostbyname, "gethostbyname_ex": gethostbyname_ex}


def install() -> None:
    for name, function in SOCKET_METHODS.items():
        setattr(socket.socket, name, function)
    for name, function in MODULE_FUNCTIONS.items():
        setattr(socket, name, function)
    log = os.environ.get("NETGUARD_LOG")
    if log:
        with open("/proc/self/cmdline", "rb") as cmdline:  # sys.argv is not final yet for `python -m`
            argv = [part.decode("utf-8", "replace") for part in cmdline.read().split(b"\0") if part]
        with open(os.path.join(log, f"{os.getpid()}.started"), "w", encoding="utf-8") as handle:
            json.dump(argv, handle)


if os.environ.get("NETGUARD_LOG") is not None or os.environ.get("NETGUARD") == "1":
    install()
