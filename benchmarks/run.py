"""What jupyter_hardening costs a Jupyter server, measured side by side (issue #6).

    python benchmarks/run.py            # the full run (about 8 minutes on 2 cores)
    python benchmarks/run.py --quick    # a smoke run with few rounds (under 90 s), used by CI
    python benchmarks/run.py --only startup,memory

Each figure runs A (with the extension, /hardening, nginx-snippet, through nginx) and its
baseline B alternately over several rounds on real processes, and compares the medians as A/B
against a target. Servers, nginx and clients all run on 127.0.0.1 in a temporary folder, with
the jupyter_hardening of this checkout. The figures are measurements, not assertions: the
exit status is 0 whenever every figure was measured, whatever its result.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# Every jupyter process started from here must load this checkout's jupyter_hardening.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
)

from benchmarks import clients  # noqa: E402
from tests import nginx_util  # noqa: E402
from tests.servers import JupyterHome, ServerProcess, free_port, jupyter_bin, start  # noqa: E402

# Benchmark-only instrumentation for the long-lived server. jupyter_server leaves Nagle's algorithm
# on for kernel websockets, so every execute waits ~40 ms for the client's delayed ACK, through
# nginx or not. With ?bench_nodelay=1 a websocket turns it off, which shows what nginx itself adds.
# It is given to that server alone with --config (which then loads the usual config file itself):
# nginx-snippet reads jupyter_server_config.py too, and must not pay for this import.
NODELAY_PATCH = """
from jupyter_server.services.kernels.websocket import KernelWebsocketHandler as _Handler

_open = _Handler.open


def _open_nodelay(self, *args, **kwargs):
    if self.get_query_argument("bench_nodelay", "") == "1":
        self.set_nodelay(True)
    return _open(self, *args, **kwargs)


_Handler.open = _open_nodelay
"""

# Run in a subprocess: a ServerApp initialized exactly as `jupyter server` would, with the
# extension enabled as in the A arm (so the audit judges the same configuration, and finds what
# that start finds), timing only the extension's own code: its import, and each hook
# jupyter_server or the extension's own scheduling calls (the link-time preflight, the preflight
# after every extension linked, the load, the audit). Wrapped by module attribute, as
# jupyter_server and the hooks look them up.
OWN_COST = """
import gc, importlib, json, os, sys, time
from jupyter_server.serverapp import ServerApp

assert "jupyter_hardening.extension" not in sys.modules
# A warm run imports the modules a cold run ended with first: what is left is the audit's work.
for name in filter(None, os.environ.get("OWN_COST_PREIMPORT", "").split(",")):
    importlib.import_module(name)
spent = {"import": 0.0, "audit": 0.0, "gc": 0.0}
inside, collecting = [False], [0.0]


def collections(phase, info):
    # The garbage collections that fall inside the extension's own work, and their time.
    if phase == "start":
        collecting[0] = time.perf_counter()
    elif inside[0]:
        spent["gc"] += time.perf_counter() - collecting[0]


gc.callbacks.append(collections)
inside[0] = True
began = time.perf_counter()
from jupyter_hardening import extension
spent["import"] = time.perf_counter() - began
inside[0] = False


def timed(name):
    original = getattr(extension, name)

    def hook(*args, **kwargs):
        inside[0] = True
        began = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent["audit"] += time.perf_counter() - began
            inside[0] = False

    setattr(extension, name, hook)


for name in ("_link_jupyter_server_extension", "_load_jupyter_server_extension",
             "all_problems", "audit_and_serve"):
    timed(name)
app = ServerApp()
app.initialize(argv=sys.argv[1:])
assert app.web_app.settings.get("jupyter_hardening") is not None, "the extension did not audit"
modules = sorted(name for name in sys.modules if name.startswith("jupyter_hardening"))
print(json.dumps({**spent, "modules": modules}))
"""

# Benchmark-only instrumentation for the watcher phase: the time Diagnosis.observe takes, summed
# and logged every 100 requests (the wrk figure alone cannot resolve 3 % on a shared machine).
OBSERVE_TIMER = """
load_subconfig('jupyter_server_config.py', path={config_dir!r})
import sys, time
from jupyter_hardening import diagnosis as _diagnosis

_observe = _diagnosis.Diagnosis.observe
_spent = [0.0, 0]


def _timed(self, handler):
    began = time.perf_counter()
    _observe(self, handler)
    _spent[0] += time.perf_counter() - began
    _spent[1] += 1
    if _spent[1] % 100 == 0:
        print(f"observe-timer {{_spent[1]}} {{_spent[0]:.9f}}", file=sys.stderr, flush=True)


_diagnosis.Diagnosis.observe = _timed
"""

PHASES = ("startup", "endpoint", "snippet", "proxy", "proxies", "memory", "watcher", "fleet")
PUBLIC_HOST = nginx_util.PUBLIC_HOST


@dataclass(frozen=True)
class Plan:
    """How many rounds and requests a run makes."""

    name: str
    startup_pairs: int
    own_cost_runs: int
    wrk_rounds: int
    wrk_seconds: float
    snippet_pairs: int
    execute_rounds: int
    executes_per_round: int
    save_megabytes: float
    save_pairs: int
    memory_checkpoints: tuple[int, int]
    fleet_rounds: int = 5
    fleet_delay: float = 0.05  # seconds each stub server takes to answer its report


FULL = Plan("full", 24, 5, 5, 5.0, 8, 10, 40, 100, 3, (1_000, 10_000))
QUICK = Plan("quick", 1, 1, 1, 1.0, 1, 2, 5, 2, 1, (100, 400), 1, 0.02)


@dataclass(frozen=True)
class Figure:
    """One result line: A against its baseline B, and the verdict against the target."""

    key: str
    label: str
    a: str
    b: str
    ratio: float | None
    target: str
    passed: bool | None  # None: reported, no target

    @property
    def result(self) -> str:
        """PASS, MISS, or 'report' for figures without a target."""
        return "report" if self.passed is None else ("PASS" if self.passed else "MISS")


def say(text: str = "") -> None:
    """Progress output, flushed so a slow run shows where it is."""
    print(text, flush=True)


def fmt_s(seconds: float) -> str:
    """Seconds, or milliseconds under one second."""
    return f"{seconds:.3f} s" if seconds >= 1 else f"{seconds * 1000:.2f} ms"


def spread(values: list[float]) -> str:
    """Smallest to largest of a list of seconds."""
    return f"{fmt_s(min(values))} to {fmt_s(max(values))}"


def mib(kib: int) -> str:
    """KiB as MiB with one decimal."""
    return f"{kib / 1024:.1f} MiB"


def ratio_figure(
    key: str,
    label: str,
    a: float,
    b: float,
    show: Callable[[float], str],
    limit: float | None,
    higher_is_better: bool = False,
) -> Figure:
    """A figure judged on A/B against ``limit`` (<= unless ``higher_is_better``)."""
    ratio = a / b
    if limit is None:
        return Figure(key, label, show(a), show(b), ratio, "-", None)
    op = ">=" if higher_is_better else "<="
    passed = ratio >= limit if higher_is_better else ratio <= limit
    return Figure(key, label, show(a), show(b), ratio, f"{op} {limit:g}", passed)


class Bench:
    """Shared state of one run: folders, token, the long-lived server, nginx, the test CA."""

    def __init__(self, plan: Plan, root: Path, stack: contextlib.ExitStack):
        self.plan = plan
        self.root = root
        self.stack = stack
        self.token = secrets.token_hex(24)
        self.auth = {"Authorization": f"token {self.token}", "Accept": "application/json"}
        self._server: ServerProcess | None = None
        self._home: JupyterHome | None = None
        self.nginx_port = free_port()
        self._ca: nginx_util.TestCA | None = None

    # -- servers ---------------------------------------------------------------------------

    def start_server(self, home: JupyterHome, *args: str) -> ServerProcess:
        """Start ``jupyter-server`` in ``home`` with our token; stopped when the run ends."""
        server = start(home, *args, env={"JUPYTER_TOKEN": self.token})
        self.stack.callback(server.stop)
        return server

    def wait_status(self, server: ServerProcess, timeout: float = 180) -> None:
        """Poll /api/status every 5 ms until it answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(f"server exited with {server.proc.returncode}:\n{server.log}")
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request("GET", "/api/status", headers=self.auth)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"/api/status answered {response.status}:\n{server.log}")
                return
            except (ConnectionRefusedError, ConnectionResetError):
                time.sleep(0.005)
            finally:
                conn.close()
        raise RuntimeError(f"server not ready after {timeout} s:\n{server.log}")

    @property
    def home(self) -> JupyterHome:
        """The home of the long-lived server, configured as nginx-snippet asks."""
        if self._home is None:
            self._home = JupyterHome(self.root / "proxied")
            self._home.write_config(
                "c.ServerApp.ip = '127.0.0.1'\n"
                f"c.ServerApp.local_hostnames = ['localhost', '{PUBLIC_HOST}']\n"
                "c.ServerApp.trust_xheaders = True\n"
                "c.IdentityProvider.secure_cookie = True\n"
                f"c.Hardening.public_url = 'https://{PUBLIC_HOST}:{self.nginx_port}/'\n"
            )
        return self._home

    @property
    def server(self) -> ServerProcess:
        """The long-lived server with the extension, used by the endpoint/snippet/proxy figures."""
        if self._server is None:
            patch = self.root / "bench_nodelay.py"
            patch.write_text(
                f"load_subconfig('jupyter_server_config.py', path={str(self.home.config_dir)!r})\n"
                + NODELAY_PATCH
            )
            self._server = self.start_server(self.home, f"--config={patch}")
            self.wait_status(self._server)
            assert_extension(self._server, enabled=True)
        return self._server

    @property
    def ca(self) -> nginx_util.TestCA:
        """A test CA and a certificate for PUBLIC_HOST that nginx serves."""
        if self._ca is None:
            self._ca = nginx_util.make_ca(self.root / "ca")
        return self._ca

    def snippet_args(self) -> list[str]:
        """nginx-snippet's arguments for the long-lived server (the rest comes from public_url)."""
        return [
            "nginx-snippet",
            f"--port={self.server.port}",
            f"--listen=127.0.0.1:{self.nginx_port}",
            f"--tls-cert={self.ca.cert}",
            f"--tls-key={self.ca.key}",
        ]


def assert_extension(server: ServerProcess, enabled: bool) -> None:
    """Fail unless the server's log shows the extension audited (or did not, when disabled)."""
    audited = "[jupyter_hardening] verdict" in server.log
    if audited != enabled:
        state = "ran" if audited else "did not run"
        raise RuntimeError(f"jupyter_hardening {state} (expected enabled={enabled}):\n{server.log}")


def extension_flag(enabled: bool) -> str:
    """The command-line switch for the extension; both arms pass one, so argv is alike."""
    return f"--ServerApp.jpserver_extensions=jupyter_hardening={enabled}"


def alternating(rounds: int) -> Iterator[tuple[int, tuple[bool, bool]]]:
    """(round, order) with A first in even rounds and B first in odd ones."""
    for i in range(rounds):
        yield i, ((True, False) if i % 2 == 0 else (False, True))


# -- 1. startup ---------------------------------------------------------------------------------


def phase_startup(bench: Bench) -> list[Figure]:
    """Process start until /api/status answers, with the extension enabled vs disabled."""
    home = JupyterHome(bench.root / "startup")
    wall: dict[bool, list[float]] = {True: [], False: []}

    def once(enabled: bool) -> float:
        began = time.perf_counter()
        server = start(home, extension_flag(enabled), env={"JUPYTER_TOKEN": bench.token})
        try:
            bench.wait_status(server)
            elapsed = time.perf_counter() - began
            assert_extension(server, enabled)
        finally:
            server.stop()
        return elapsed

    # A discarded start of each: the page cache and kernel specs are warm afterwards.
    once(True)
    once(False)
    for i, order in alternating(bench.plan.startup_pairs):
        for enabled in order:
            wall[enabled].append(once(enabled))
        say(f"  round {i + 1}: with {fmt_s(wall[True][-1])}, without {fmt_s(wall[False][-1])}")
    a, b = clients.median(wall[True]), clients.median(wall[False])
    paired = clients.median([x - y for x, y in zip(wall[True], wall[False], strict=True)])
    say(
        f"  median with {fmt_s(a)} (range {spread(wall[True])}), without {fmt_s(b)} "
        f"(range {spread(wall[False])}); median of the paired differences {paired * 1000:+.0f} ms"
    )

    # On a shared machine, start times wander by more than the extension costs. Its own work
    # (importing it, auditing) is small and steady, so it is timed apart, in a server process
    # set up like the ones above, and set against the baseline start.
    argv = [f"--port={free_port()}", "--port-retries=0", "--allow-root", extension_flag(True)]
    env = home.env(JUPYTER_TOKEN=bench.token)

    def own_cost(preimport: str = "") -> dict[str, Any]:
        """Each figure's median over own_cost_runs server processes, and the modules imported."""
        runs = []
        for _ in range(bench.plan.own_cost_runs):
            done = subprocess.run(
                [sys.executable, "-c", OWN_COST, *argv],
                capture_output=True,
                text=True,
                env={**env, "OWN_COST_PREIMPORT": preimport},
                cwd=home.work_dir,
                timeout=180,
                check=True,
            )
            runs.append(json.loads(done.stdout.splitlines()[-1]))
        medians = {k: clients.median([r[k] for r in runs]) for k in ("import", "audit", "gc")}
        return {**medians, "modules": runs[-1]["modules"]}

    cold = own_cost()
    # The same with the extension's modules imported beforehand: what is left is the audit's
    # work, so the difference is what importing them costs (issue 11's breakdown).
    warm = own_cost(",".join(cold["modules"]))
    imported, audited = cold["import"], cold["audit"]
    say(
        f"  the extension's own work: import {fmt_s(imported)}, preflights and audit "
        f"{fmt_s(audited)} (medians of {bench.plan.own_cost_runs} server processes); "
        f"garbage collections inside it {fmt_s(cold['gc'])}"
    )
    say(
        f"  with its {len(cold['modules'])} modules imported beforehand: preflights and audit "
        f"{fmt_s(warm['audit'])}, collections {fmt_s(warm['gc'])}; so importing them costs "
        f"about {fmt_s(imported + audited - warm['audit'])}"
    )
    total = imported + audited
    return [
        ratio_figure("startup", "start -> /api/status answers", a, b, fmt_s, 1.03),
        Figure(
            "startup-own",
            "baseline start + the extension's import and audit",
            f"+{fmt_s(total)}",
            fmt_s(b),
            (b + total) / b,
            "<= 1.003",  # issue 11: a start pays at most 0.3 % for the audit
            (b + total) / b <= 1.003,
        ),
    ]


# -- 2. /hardening vs /api/status under wrk ------------------------------------------------------


def phase_endpoint(bench: Bench) -> list[Figure]:
    """wrk, 16 connections: /hardening (JSON, token header) vs /api/status."""
    server = bench.server
    paths = {True: "/hardening", False: "/api/status"}
    results: dict[bool, list[clients.WrkResult]] = {True: [], False: []}

    def once(is_a: bool, seconds: float) -> clients.WrkResult:
        result = clients.wrk(server.url(paths[is_a]), bench.auth, seconds)
        if result.bad:
            raise RuntimeError(f"wrk saw {result.bad} errors on {paths[is_a]}:\n{server.log}")
        return result

    once(True, 1)
    once(False, 1)
    for i, order in alternating(bench.plan.wrk_rounds):
        for is_a in order:
            results[is_a].append(once(is_a, bench.plan.wrk_seconds))
        ra, rb = results[True][-1], results[False][-1]
        say(
            f"  round {i + 1}: /hardening {ra.requests_per_second:.0f} req/s p99 {fmt_s(ra.p99)}; "
            f"/api/status {rb.requests_per_second:.0f} req/s p99 {fmt_s(rb.p99)}"
        )
    rps = {k: clients.median([r.requests_per_second for r in v]) for k, v in results.items()}
    p99 = {k: clients.median([r.p99 for r in v]) for k, v in results.items()}
    return [
        ratio_figure(
            "rps",
            "/hardening vs /api/status req/s",
            rps[True],
            rps[False],
            lambda v: f"{v:.0f} req/s",
            0.9,
            higher_is_better=True,
        ),
        ratio_figure("p99", "/hardening vs /api/status p99", p99[True], p99[False], fmt_s, 1.5),
    ]


# -- 3. nginx-snippet vs jupyter server list -----------------------------------------------------


def phase_snippet(bench: Bench) -> list[Figure]:
    """Wall time of `jupyter hardening nginx-snippet` vs `jupyter server list --json`."""
    server = bench.server
    env = bench.home.env()
    jupyter = jupyter_bin("jupyter")
    commands = {
        True: [jupyter, "hardening", *bench.snippet_args()],
        False: [jupyter, "server", "list", "--json"],
    }
    times: dict[bool, list[float]] = {True: [], False: []}
    for is_a in (True, False):
        clients.wall_time(commands[is_a], env)
    for i, order in alternating(bench.plan.snippet_pairs):
        for is_a in order:
            times[is_a].append(clients.wall_time(commands[is_a], env))
        say(
            f"  round {i + 1}: nginx-snippet {fmt_s(times[True][-1])}, server list {fmt_s(times[False][-1])}"
        )
    a, b = clients.median(times[True]), clients.median(times[False])

    snippet_imports = clients.imports_of(
        [jupyter_bin("jupyter-hardening"), *bench.snippet_args()], env
    )
    list_imports = clients.imports_of([jupyter_bin("jupyter-server"), "list", "--json"], env)
    names = {i.module for i in snippet_imports}
    heavy = sorted((i for i in snippet_imports if i.depth == 0), key=lambda i: -i.cumulative)[:6]
    say(
        f"  nginx-snippet imports {len(names)} modules; slowest top-level: "
        + ", ".join(f"{i.module} {i.cumulative * 1000:.0f} ms" for i in heavy)
    )
    server_app = "jupyter_server.serverapp"
    loads_app = server_app in names
    loads_tornado = "tornado.web" in names
    say(
        f"  imports {server_app}: {'yes' if loads_app else 'no'}; tornado.web: {'yes' if loads_tornado else 'no'}"
    )
    if server.proc.poll() is not None:
        raise RuntimeError(f"the server died during the snippet runs:\n{server.log}")
    return [
        ratio_figure("snippet", "nginx-snippet vs server list --json", a, b, fmt_s, 0.5),
        Figure(
            "imports",
            f"modules imported (-X importtime); {server_app}",
            f"{len(names)}; {'yes' if loads_app else 'no'}",
            f"{len({i.module for i in list_imports})}; yes",
            len(names) / len({i.module for i in list_imports}),
            "no serverapp",
            not loads_app,
        ),
    ]


# -- 4. through nginx vs direct ------------------------------------------------------------------


def phase_proxy(bench: Bench) -> list[Figure]:
    """Kernel execute round trips and a large notebook save, through the generated nginx vs direct."""
    import requests

    server = bench.server
    env = bench.home.env()
    done = subprocess.run(
        [jupyter_bin("jupyter"), "hardening", *bench.snippet_args()],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    conf = nginx_util.nginx_conf_including(bench.root / "nginx", done.stdout)
    bench.stack.enter_context(nginx_util.running_nginx(conf, bench.nginx_port, nginx=nginx_bin()))
    bench.stack.enter_context(nginx_util.resolve_to_loopback(PUBLIC_HOST))
    direct = f"127.0.0.1:{server.port}"
    proxied = f"{PUBLIC_HOST}:{bench.nginx_port}"
    verify = str(bench.ca.ca_cert)
    http = requests.Session()
    http.trust_env = False  # no REQUESTS_CA_BUNDLE or *_proxy: our CA, straight to loopback
    http.headers.update(bench.auth)
    http.verify = verify

    kernel = http.post(f"http://{direct}/api/kernels", json={"name": "python3"}, timeout=60)
    kernel.raise_for_status()
    kernel_id = kernel.json()["id"]
    channels = f"/api/kernels/{kernel_id}/channels"
    plan = bench.plan
    figures = []
    for nodelay in (False, True):
        query = "?bench_nodelay=1" if nodelay else ""
        sockets = {
            True: clients.KernelChannel(
                f"wss://{proxied}{channels}{query}", bench.auth, {"ca_certs": verify}
            ),
            False: clients.KernelChannel(f"ws://{direct}{channels}{query}", bench.auth),
        }
        name = "TCP_NODELAY patch" if nodelay else "stock server"
        say(f"  kernel execute 6*7, {name}:")
        try:
            for channel in sockets.values():
                for _ in range(5):
                    _, result = channel.execute("6*7")
                    if result != "42":
                        raise RuntimeError(f"6*7 gave {result!r}")
            trips: dict[bool, list[float]] = {True: [], False: []}
            for i, order in alternating(plan.execute_rounds):
                for is_a in order:
                    for _ in range(plan.executes_per_round):
                        trips[is_a].append(sockets[is_a].execute("6*7")[0])
                n = plan.executes_per_round
                say(
                    f"    round {i + 1}: via nginx {fmt_s(clients.median(trips[True][-n:]))}, "
                    f"direct {fmt_s(clients.median(trips[False][-n:]))} (median of {n})"
                )
        finally:
            for channel in sockets.values():
                channel.close()
        a, b = clients.median(trips[True]), clients.median(trips[False])
        say(
            f"    median via nginx {fmt_s(a)}, direct {fmt_s(b)}: nginx adds {(a - b) * 1000:+.2f} ms"
        )
        figures.append(
            ratio_figure(
                "execute-nodelay" if nodelay else "execute",
                f"execute 6*7 round trip, nginx/direct ({name})",
                a,
                b,
                fmt_s,
                1.15,
            )
        )
    http.delete(f"http://{direct}/api/kernels/{kernel_id}", timeout=60)

    body = clients.notebook_body(bench.plan.save_megabytes)
    size = f"{len(body) / 1e6:.0f} MB"
    bases = {True: f"https://{proxied}", False: f"http://{direct}"}
    saves: dict[bool, list[float]] = {True: [], False: []}

    def save(is_a: bool) -> float:
        # Each path overwrites its own file: every timed save does the same work (200, not 201).
        url = f"{bases[is_a]}/api/contents/bench-{'nginx' if is_a else 'direct'}.ipynb"
        began = time.perf_counter()
        response = http.put(url, data=body, timeout=600)
        elapsed = time.perf_counter() - began
        if response.status_code not in (200, 201):
            raise RuntimeError(f"save answered {response.status_code}: {response.text[:500]}")
        return elapsed

    # The first save of a server pays one-time costs (nbformat's validator, the signature
    # database); the first through nginx also its TLS handshake. Neither is what we compare.
    save(True)
    save(False)
    for i, order in alternating(bench.plan.save_pairs):
        for is_a in order:
            saves[is_a].append(save(is_a))
        say(
            f"  round {i + 1}: {size} save via nginx {fmt_s(saves[True][-1])}, "
            f"direct {fmt_s(saves[False][-1])}"
        )
    save = ratio_figure(
        "save",
        f"{size} notebook save (PUT), nginx vs direct",
        clients.median(saves[True]),
        clients.median(saves[False]),
        fmt_s,
        None,
    )
    http.close()
    return [*figures, save]


def nginx_bin() -> str:
    """Debian's nginx."""
    found = nginx_util.nginx_path()
    if not found:
        raise RuntimeError("nginx is not installed (apt-get install nginx-light)")
    return found


# -- 5. through Caddy and Apache httpd vs direct ------------------------------------------------


def phase_proxies(bench: Bench) -> list[Figure]:
    """Kernel execute round trips through the Caddy and httpd configs the commands write, vs direct."""
    import requests

    from tests import proxy_util

    server = bench.server
    env = bench.home.env()
    verify = str(bench.ca.ca_cert)
    direct = f"127.0.0.1:{server.port}"
    http = requests.Session()
    http.trust_env = False
    http.headers.update(bench.auth)
    kernel = http.post(f"http://{direct}/api/kernels", json={"name": "python3"}, timeout=60)
    kernel.raise_for_status()
    kernel_id = kernel.json()["id"]
    channels = f"/api/kernels/{kernel_id}/channels"
    bench.stack.enter_context(nginx_util.resolve_to_loopback(PUBLIC_HOST))
    plan = bench.plan
    figures = []
    for proxy in ("caddy", "apache"):
        port = free_port()
        done = subprocess.run(
            [
                jupyter_bin("jupyter"),
                "hardening",
                f"{proxy}-snippet",
                f"--port={server.port}",
                f"--listen=127.0.0.1:{port}",
                f"--tls-cert={bench.ca.cert}",
                f"--tls-key={bench.ca.key}",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        )
        folder = bench.root / proxy
        if proxy == "caddy":
            running = proxy_util.running_caddy(proxy_util.caddy_wrapper(folder, done.stdout), port)
        else:
            running = proxy_util.running_apache(
                proxy_util.apache_wrapper(folder, done.stdout), port
            )
        with running:
            # Nagle's algorithm off on the server's side (see phase_proxy): what the proxy adds.
            query = "?bench_nodelay=1"
            sockets = {
                True: clients.KernelChannel(
                    f"wss://{PUBLIC_HOST}:{port}{channels}{query}", bench.auth, {"ca_certs": verify}
                ),
                False: clients.KernelChannel(f"ws://{direct}{channels}{query}", bench.auth),
            }
            try:
                for channel in sockets.values():
                    for _ in range(5):
                        if channel.execute("6*7")[1] != "42":
                            raise RuntimeError(f"6*7 through {proxy} gave no 42")
                trips: dict[bool, list[float]] = {True: [], False: []}
                for i, order in alternating(plan.execute_rounds):
                    for is_a in order:
                        for _ in range(plan.executes_per_round):
                            trips[is_a].append(sockets[is_a].execute("6*7")[0])
                    n = plan.executes_per_round
                    say(
                        f"  round {i + 1}: via {proxy} {fmt_s(clients.median(trips[True][-n:]))}, "
                        f"direct {fmt_s(clients.median(trips[False][-n:]))} (median of {n})"
                    )
            finally:
                for channel in sockets.values():
                    channel.close()
        a, b = clients.median(trips[True]), clients.median(trips[False])
        say(
            f"  median via {proxy} {fmt_s(a)}, direct {fmt_s(b)}: {proxy} adds {(a - b) * 1000:+.2f} ms"
        )
        figures.append(
            ratio_figure(
                f"execute-{proxy}",
                f"execute 6*7 round trip, {proxy}/direct (TCP_NODELAY patch)",
                a,
                b,
                fmt_s,
                1.15,
            )
        )
    http.delete(f"http://{direct}/api/kernels/{kernel_id}", timeout=60)
    http.close()
    return figures


# -- memory --------------------------------------------------------------------------------------


def phase_memory(bench: Bench) -> list[Figure]:
    """RSS of a server with the extension serving /hardening vs one without serving /api/status."""
    home = JupyterHome(bench.root / "memory")
    servers = {
        True: bench.start_server(home, extension_flag(True)),
        False: bench.start_server(home, extension_flag(False)),
    }
    paths = {True: "/hardening", False: "/api/status"}
    for enabled, server in servers.items():
        bench.wait_status(server)
        assert_extension(server, enabled)
    first, last = bench.plan.memory_checkpoints
    rss: dict[bool, dict[int, tuple[int, int]]] = {True: {}, False: {}}
    for enabled, server in servers.items():
        rss[enabled][0] = clients.memory_kib(server.proc.pid)
    sent = 0
    for checkpoint in (first, last):
        while sent < checkpoint:
            batch = min(first, checkpoint - sent)
            # Batches alternate which server goes first, so both see the same machine load.
            order = (True, False) if (sent // first) % 2 == 0 else (False, True)
            for enabled in order:
                clients.http_load(servers[enabled].port, paths[enabled], bench.auth, batch)
            sent += batch
        for enabled, server in servers.items():
            rss[enabled][sent] = clients.memory_kib(server.proc.pid)
        say(
            f"  after {sent:,} requests: with (/hardening) RSS {mib(rss[True][sent][0])}, "
            f"without (/api/status) RSS {mib(rss[False][sent][0])}"
        )
    growth = {k: v[last][0] - v[first][0] for k, v in rss.items()}
    tolerance_kib = 1024
    for enabled, label in ((True, "with"), (False, "without")):
        r = rss[enabled]
        say(
            f"  {label}: RSS idle {mib(r[0][0])}, after {first:,} {mib(r[first][0])}, after {last:,} "
            f"{mib(r[last][0])} ({growth[enabled] / 1024:+.1f} MiB); peak (VmHWM) {mib(r[last][1])}"
        )
    return [
        ratio_figure(
            "peak-rss",
            f"peak RSS (VmHWM) after {last:,} requests",
            rss[True][last][1],
            rss[False][last][1],
            lambda v: mib(int(v)),
            None,
        ),
        Figure(
            "rss-growth",
            f"RSS growth from {first:,} to {last:,} requests",
            f"{growth[True] / 1024:+.1f} MiB",
            f"{growth[False] / 1024:+.1f} MiB",
            None,
            f"<= {tolerance_kib // 1024} MiB over B",
            growth[True] <= max(growth[False], 0) + tolerance_kib,
        ),
    ]


# -- the proxy watcher (issue 16) ---------------------------------------------------------------


def phase_watcher(bench: Bench) -> list[Figure]:
    """wrk on /api/status with the live proxy diagnosis on vs off (c.Hardening.diagnose_proxy)."""
    timer = bench.root / "observe_timer.py"
    timer.write_text(OBSERVE_TIMER.format(config_dir=str(bench.home.config_dir)))
    servers = {
        True: bench.start_server(
            bench.home, f"--config={timer}", "--Hardening.diagnose_proxy=True"
        ),
        False: bench.start_server(bench.home, "--Hardening.diagnose_proxy=False"),
    }
    for server in servers.values():
        bench.wait_status(server)
        assert_extension(server, enabled=True)
    # As nginx-snippet's proxy sends them: every per-request check of the watcher runs.
    headers = {
        **bench.auth,
        "Host": f"{PUBLIC_HOST}:{bench.nginx_port}",
        "X-Forwarded-For": "192.0.2.7",
        "X-Real-IP": "192.0.2.7",
        "X-Forwarded-Proto": "https",
    }
    results: dict[bool, list[float]] = {True: [], False: []}
    for enabled in (True, False):
        clients.wrk(servers[enabled].url("/api/status"), headers, 1)
    for i, order in alternating(bench.plan.wrk_rounds):
        for enabled in order:
            result = clients.wrk(
                servers[enabled].url("/api/status"), headers, bench.plan.wrk_seconds
            )
            if result.bad:
                raise RuntimeError(f"wrk saw {result.bad} errors:\n{servers[enabled].log}")
            results[enabled].append(result.requests_per_second)
        say(
            f"  round {i + 1}: watcher on {results[True][-1]:.0f} req/s, "
            f"off {results[False][-1]:.0f} req/s"
        )
    spent = [
        line.split() for line in servers[True].log.splitlines() if line.startswith("observe-timer")
    ]
    if not spent:
        raise RuntimeError(f"the observe timer logged nothing:\n{servers[True].log}")
    calls, seconds = int(spent[-1][1]), float(spent[-1][2])
    per_call = seconds / calls
    per_request = 1 / clients.median(results[False])
    say(
        f"  Diagnosis.observe: {per_call * 1e6:.1f} us per request over {calls} requests; "
        f"a request without the watcher takes {per_request * 1e6:.0f} us (1 / median req/s)"
    )
    return [
        Figure(
            "watcher-cost",
            "/api/status throughput kept with observe()'s measured cost",
            f"+{per_call * 1e6:.1f} us",
            f"{per_request * 1e6:.0f} us",
            per_request / (per_request + per_call),
            ">= 0.97",
            per_request / (per_request + per_call) >= 0.97,
        ),
        ratio_figure(
            "watcher",
            "/api/status req/s, proxy watcher on vs off",
            clients.median(results[True]),
            clients.median(results[False]),
            lambda v: f"{v:.0f} req/s",
            0.97,
            higher_is_better=True,
        ),
    ]


# -- 8. the hub service's fleet refresh ------------------------------------------------------------

FLEET_SERVERS = 100
FLEET_CONCURRENCY = 8  # hub-service's default bound


def _stub_stats(port: int, method: str = "GET") -> dict[str, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, "/stats")
        body = conn.getresponse().read()
    finally:
        conn.close()
    return json.loads(body) if body else {}


def phase_fleet(bench: Bench) -> list[Figure]:
    """hub-service refreshing 100 stub servers, at most 8 at a time vs one at a time."""
    import asyncio

    from jupyter_hardening.fleet import Fleet

    port = free_port()
    delay = bench.plan.fleet_delay
    stub = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "benchmarks" / "fleet_stubs.py"),
            *(str(port), str(FLEET_SERVERS), str(delay)),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )

    def stop() -> None:
        stub.terminate()
        stub.wait(10)

    bench.stack.callback(stop)
    assert stub.stdout is not None
    if stub.stdout.readline().strip() != "ready":
        raise RuntimeError("the fleet stubs did not start")
    origin = f"http://127.0.0.1:{port}"

    async def refresh(concurrency: int) -> tuple[float, int]:
        fleet = Fleet(f"{origin}/hub/api", origin, secrets.token_hex(16), concurrency, 30.0)
        try:
            began = time.perf_counter()
            state = await fleet.refresh()
            wall = time.perf_counter() - began
        finally:
            fleet.close()
        verdicts = [s.verdict for s in state.servers]
        if verdicts != ["warn"] * FLEET_SERVERS:
            raise RuntimeError(f"the refresh did not read every stub: {sorted(set(verdicts))}")
        return wall, fleet.peak_in_flight

    def once(concurrency: int) -> tuple[float, int]:
        _stub_stats(port, "DELETE")
        wall, _ = asyncio.run(refresh(concurrency))
        return wall, _stub_stats(port)["peak"]

    times: dict[int, list[float]] = {FLEET_CONCURRENCY: [], 1: []}
    peaks: list[int] = []
    once(FLEET_CONCURRENCY)  # warm-up: imports, the first connections
    for i, order in alternating(bench.plan.fleet_rounds):
        for bounded in order:
            concurrency = FLEET_CONCURRENCY if bounded else 1
            wall, peak = once(concurrency)
            times[concurrency].append(wall)
            if bounded:
                peaks.append(peak)
        say(
            f"  round {i + 1}: at most {FLEET_CONCURRENCY} at a time {fmt_s(times[FLEET_CONCURRENCY][-1])} "
            f"(peak {peaks[-1]} in flight), one at a time {fmt_s(times[1][-1])}"
        )
    peak = max(peaks)
    say(
        f"  {FLEET_SERVERS} stub servers answering after {delay * 1000:.0f} ms each; "
        f"ideal: {fmt_s(FLEET_SERVERS * delay / FLEET_CONCURRENCY)} and {fmt_s(FLEET_SERVERS * delay)}"
    )
    return [
        ratio_figure(
            "fleet",
            f"refresh {FLEET_SERVERS} stub servers, bound {FLEET_CONCURRENCY} vs sequential",
            clients.median(times[FLEET_CONCURRENCY]),
            clients.median(times[1]),
            fmt_s,
            0.25,
        ),
        Figure(
            "fleet-peak",
            "peak report requests in flight seen by the stubs vs the bound",
            str(peak),
            str(FLEET_CONCURRENCY),
            peak / FLEET_CONCURRENCY,
            "<= 1",
            peak <= FLEET_CONCURRENCY,
        ),
    ]


# -- report ---------------------------------------------------------------------------------------


def machine() -> list[str]:
    """Where the figures come from: CPUs, load, versions."""
    import jupyter_server
    import tornado

    import jupyter_hardening

    nginx = clients.tool_version([nginx_util.nginx_path() or "nginx", "-v"], r"nginx/(\S+)")
    wrk = clients.tool_version(["wrk", "-v"], r"wrk (\S+)")
    return [
        f"date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M UTC}",
        f"machine: {clients.cpu_count()} CPUs ({os.cpu_count()} online), {clients.cpu_model()}, "
        f"{platform.system()} {platform.release()}, load average {clients.loadavg()}",
        f"software: Python {platform.python_version()}, jupyter_server {jupyter_server.__version__}, "
        f"tornado {tornado.version}, nginx {nginx}, wrk {wrk}",
        f"jupyter_hardening {jupyter_hardening.__version__} from {Path(jupyter_hardening.__file__).parent}",
    ]


def table(figures: list[Figure]) -> list[str]:
    """The results as aligned text, one figure per line."""
    rows = [("figure", "A", "B (baseline)", "A/B", "target", "result")]
    for f in figures:
        ratio = "-" if f.ratio is None else f"{f.ratio:.3f}"
        rows.append((f"[{f.key}] {f.label}", f.a, f.b, ratio, f.target, f.result))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the chosen phases and print the results table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="few rounds and requests (CI smoke run)"
    )
    parser.add_argument(
        "--only", default=",".join(PHASES), help=f"comma-separated phases: {','.join(PHASES)}"
    )
    args = parser.parse_args(argv)
    chosen = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(chosen) - set(PHASES))
    if unknown:
        parser.error(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    plan = QUICK if args.quick else FULL
    runners = {
        "startup": phase_startup,
        "endpoint": phase_endpoint,
        "snippet": phase_snippet,
        "proxy": phase_proxy,
        "proxies": phase_proxies,
        "memory": phase_memory,
        "watcher": phase_watcher,
        "fleet": phase_fleet,
    }
    began = time.monotonic()
    # pip compiles a package's bytecode when it installs it; a checkout (and this environment's
    # PYTHONDONTWRITEBYTECODE) would make every server compile jupyter_hardening from source.
    compileall.compile_dir(str(REPO / "jupyter_hardening"), quiet=1)
    say(f"jupyter_hardening benchmarks ({plan.name} run)")
    for line in machine():
        say(line)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="jh-bench-") as tmp, contextlib.ExitStack() as stack:
        bench = Bench(plan, Path(tmp), stack)
        for phase in PHASES:
            if phase in chosen:
                say(f"\n== {phase}: {runners[phase].__doc__} (load average {clients.loadavg()})")
                figures += runners[phase](bench)
    say(
        f"\n== results ({plan.name} run, {time.monotonic() - began:.0f} s, load average now {clients.loadavg()})"
    )
    for line in table(figures):
        say(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
