"""Stub user servers for the fleet benchmark: the hub's user list and N servers' /hardening.

    python benchmarks/fleet_stubs.py PORT SERVERS DELAY_SECONDS

One tornado process on 127.0.0.1:PORT plays the hub's proxy: ``/hub/api/users`` lists SERVERS
ready users (paginated as JupyterHub does), ``/user/<name>/hardening`` answers a small report
after DELAY_SECONDS, and ``/stats`` tells the peak number of report requests in flight at once.
"""

from __future__ import annotations

import asyncio
import json
import sys

from tornado import web

REPORT = json.dumps(
    {
        "version": "stub",
        "verdict": "warn",
        "findings": [
            {
                "id": "JH101",
                "name": "network-exposure",
                "severity": "warning",
                "traits": ["ServerApp.ip"],
                "message": "stub",
                "fix": "stub",
                "accepted": False,
                "reason": "",
                "where": [],
            }
        ],
        "counts": {"error": 0, "warning": 1, "info": 0, "accepted": 0},
        "refuse_at": "error",
        "computed_at": "2026-12-01T00:00:00+00:00",
        "settings": {"ServerApp.certfile expires": "no certificate"},
        "where": {},
    }
)


class Stats:
    """Report requests in flight now, the most seen at once, and the total."""

    in_flight = 0
    peak = 0
    served = 0


class Users(web.RequestHandler):
    def get(self) -> None:
        total = int(self.application.settings["servers"])
        offset = int(self.get_query_argument("offset", "0"))
        limit = int(self.get_query_argument("limit", "200"))
        names = [f"user{n:04d}" for n in range(offset, min(total, offset + limit))]
        items = [
            {"name": name, "servers": {"": {"ready": True, "url": f"/user/{name}/"}}}
            for name in names
        ]
        following = offset + limit
        page = {"offset": following, "limit": limit} if following < total else None
        self.finish({"items": items, "_pagination": {"total": total, "next": page}})


class Report(web.RequestHandler):
    async def get(self, name: str) -> None:
        Stats.in_flight += 1
        Stats.peak = max(Stats.peak, Stats.in_flight)
        try:
            await asyncio.sleep(float(self.application.settings["delay"]))
        finally:
            Stats.in_flight -= 1
        Stats.served += 1
        self.set_header("Content-Type", "application/json")
        self.finish(REPORT)


class StatsHandler(web.RequestHandler):
    def get(self) -> None:
        self.finish({"peak": Stats.peak, "served": Stats.served})

    def delete(self) -> None:
        Stats.peak = Stats.served = 0
        self.set_status(204)


async def main(port: int, servers: int, delay: float) -> None:
    app = web.Application(
        [
            (r"/hub/api/users", Users),
            (r"/user/([^/]+)/hardening", Report),
            (r"/stats", StatsHandler),
        ],
        servers=servers,
        delay=delay,
    )
    app.listen(port, address="127.0.0.1")
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])))
