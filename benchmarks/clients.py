"""Load generators and probes for the benchmarks: wrk, a counted HTTP load, a kernel websocket,
notebook saves, process memory and command wall time. All traffic stays on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    return float(statistics.median(values))


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS[match[2]]


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    requests_per_second: float
    p99: float  # seconds
    requests: int
    bad: int  # non-2xx/3xx responses plus socket errors


def parse_wrk(output: str) -> WrkResult:
    """Read throughput, p99 latency and error counts from ``wrk --latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p99 and total):
        raise ValueError(f"unexpected wrk output:\n{output}")
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        bad += sum(int(n) for n in socket_errors.groups())
    return WrkResult(float(rps[1]), _seconds(p99[1]), int(total[1]), bad)


def wrk(
    url: str, headers: dict[str, str], seconds: float, connections: int = 16, threads: int = 2
) -> WrkResult:
    """Run wrk with ``--latency`` against ``url`` for ``seconds``."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    return parse_wrk(done.stdout)


def http_load(port: int, path: str, headers: dict[str, str], count: int, clients: int = 4) -> None:
    """Send exactly ``count`` GETs over ``clients`` keep-alive connections; fail on non-2xx."""
    errors: list[str] = []

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(n):
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 300:
                    errors.append(f"{response.status} {response.reason} for {path}")
                    return
        except OSError as e:
            errors.append(f"{type(e).__name__}: {e}")
        finally:
            conn.close()

    shares = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
    workers = [threading.Thread(target=worker, args=(n,)) for n in shares]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise RuntimeError(f"http load on port {port} failed: {errors[0]}")


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB, from /proc/<pid>/status."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def wall_time(argv: Sequence[str], env: dict[str, str]) -> float:
    """Seconds one command takes from spawn to exit; fails if it exits non-zero."""
    start = time.perf_counter()
    done = subprocess.run(
        list(argv), capture_output=True, text=True, env=env, timeout=120, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr}")
    return elapsed


@dataclass(frozen=True)
class Import:
    """One line of ``python -X importtime``."""

    module: str
    depth: int  # 0 for a module the program imported itself
    cumulative: float  # seconds, with everything it imported


def imports_of(argv: Sequence[str], env: dict[str, str]) -> list[Import]:
    """Every module ``argv`` (a Python script and its arguments) imports, from -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr}")
    found = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match:
            found.append(Import(match[3], (len(match[2]) - 1) // 2, int(match[1]) / 1e6))
    return found


class KernelChannel:
    """A kernel's websocket (Jupyter's JSON protocol) that times ``execute`` round trips."""

    def __init__(self, url: str, headers: dict[str, str], sslopt: dict[str, Any] | None = None):
        import websocket  # websocket-client, from the test extra

        header = [f"{k}: {v}" for k, v in headers.items()]
        self.ws = websocket.create_connection(url, header=header, sslopt=sslopt, timeout=60)
        self.session = uuid.uuid4().hex

    def execute(self, code: str) -> tuple[float, str]:
        """Send an execute_request; return the seconds until its reply and idle, and the result."""
        msg_id = uuid.uuid4().hex
        message = {
            "header": {
                "msg_id": msg_id,
                "msg_type": "execute_request",
                "session": self.session,
                "username": "bench",
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "content": {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
            "channel": "shell",
            "buffers": [],
        }
        start = time.perf_counter()
        self.ws.send(json.dumps(message))
        replied = idle = False
        result = ""
        while not (replied and idle):
            incoming = self.ws.recv()
            if isinstance(incoming, bytes):
                continue  # binary frames carry buffers, never the replies we wait for
            msg = json.loads(incoming)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "execute_reply":
                replied = True
                if msg["content"]["status"] != "ok":
                    raise RuntimeError(f"execute failed: {msg['content']}")
            elif kind == "execute_result":
                result = msg["content"]["data"]["text/plain"]
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return time.perf_counter() - start, result

    def close(self) -> None:
        """Close the websocket."""
        self.ws.close()


def notebook_body(megabytes: float) -> bytes:
    """A PUT /api/contents body: a notebook of about ``megabytes`` MB, in 1 MB image outputs.

    Large notebooks are large because of embedded images; 1 MB each keeps the cell count
    (and nbformat's validation work) realistic.
    """
    chunk = (uuid.uuid4().hex * (1_000_000 // 32 + 1))[:1_000_000]
    cells = [
        {
            "cell_type": "code",
            "execution_count": i + 1,
            "id": f"cell-{i}",
            "metadata": {},
            "source": f"plot({i})",
            "outputs": [
                {
                    "output_type": "display_data",
                    "data": {"image/png": chunk, "text/plain": "<Figure>"},
                    "metadata": {},
                }
            ],
        }
        for i in range(max(1, round(megabytes)))
    ]
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    return json.dumps({"type": "notebook", "format": "json", "content": notebook}).encode()


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, as /proc/loadavg prints them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def tool_version(argv: Sequence[str], pattern: str) -> str:
    """The version a tool prints (stdout or stderr), or 'missing'."""
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "missing"
    match = re.search(pattern, done.stdout + done.stderr)
    return match[1] if match else "unknown"


def cpu_count() -> int:
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0))
