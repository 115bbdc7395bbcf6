"""JH71x — what the requests reaching a running server show about the proxy in front (live diagnosis).

These are not judged from the settings: the extension counts the requests that show each fault
(see ``jupyter_hardening/diagnosis.py``) and reports them at ``/hardening`` and ``/metrics``
while the server runs; ``jupyter hardening check`` never shows them. Accept one with
``c.Hardening.accepted_risks`` like any rule: it is then reported as accepted and not counted.
"""

from __future__ import annotations

from .base import Described, Severity


class ProxyHostPort(Described):
    """Requests from the server's own pages are blocked by Jupyter's origin check because the
    proxy changed the Host header: ``proxy_set_header Host $host;`` drops the port the browser
    used (anything but 443/80), or no Host line at all sends the ``proxy_pass`` address. Origin
    and Host then differ, so jupyter_server logs "Blocking Cross Origin API request", answers
    the password login POST with 404 and refuses the kernel websockets. Setting
    ``allow_origin = '*'`` "fixes" this by switching the check off for every web site.

    Broken (nginx on port 8443)::

        proxy_set_header Host $host;

    Fix::

        proxy_set_header Host $host:8443;

    For Apache, ``ProxyPreserveHost On``; Caddy passes the browser's Host unless a
    ``header_up Host`` line replaces it.
    """

    id = "JH710"
    name = "proxy-host-port"
    severity = Severity.ERROR
    traits = ("nginx proxy_set_header Host",)
    summary = "the proxy drops the port (or the whole Host) the browser used"


class ProxyWebsocket(Described):
    """Websocket requests (kernels, terminals, events) reach Jupyter without
    ``Upgrade: websocket`` and ``Connection: upgrade``, or over HTTP/1.0: nginx passes neither
    header unless told to (they are hop-by-hop) and speaks HTTP/1.0 to the upstream by default.
    Jupyter answers 400, and notebooks never connect to their kernel.

    Broken (what reaches Jupyter for a kernel's websocket; nginx-check calls it JH752)::

        GET /jp/api/kernels/<id>/channels HTTP/1.1
        Host: jupyter.example.com:8443
        Connection: close

    Fix, in the location (and the ``map`` in ``http {}``)::

        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;

        map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    """

    id = "JH711"
    name = "proxy-websocket"
    severity = Severity.ERROR
    traits = ("nginx proxy_set_header Upgrade/Connection", "nginx proxy_http_version")
    summary = "websocket requests arrive without Upgrade"


class ProxyForwardedProto(Described):
    """``c.Hardening.public_url`` is https, but proxied requests reach Jupyter as plain http
    without ``X-Forwarded-Proto: https``: jupyter_server then sets its login cookie without
    Secure and builds redirects to http.

    Broken::

        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;   # and no X-Forwarded-Proto

    Fix (with ``c.ServerApp.trust_xheaders = True`` and Jupyter on 127.0.0.1)::

        proxy_set_header X-Forwarded-Proto $scheme;
    """

    id = "JH712"
    name = "proxy-forwarded-proto"
    severity = Severity.WARNING
    traits = ("nginx proxy_set_header X-Forwarded-Proto", "ServerApp.trust_xheaders")
    summary = "public_url is https but requests arrive as http"


class ProxyHostNotLocal(Described):
    """Requests were refused with 403 "non-local Host" because the name the proxy passes is
    not in ``ServerApp.local_hostnames`` (a server on loopback checks Host against it, against
    DNS rebinding). A warning when the name is public_url's host, else information: nobody may
    use that name, and the check is doing its job.

    Broken (the proxy passes ``Host: jupyter.example.com``)::

        c.ServerApp.local_hostnames = ['localhost']

    Fix::

        c.ServerApp.local_hostnames = ['localhost', 'jupyter.example.com']
    """

    id = "JH713"
    name = "proxy-host-not-local"
    severity = Severity.WARNING
    traits = ("ServerApp.local_hostnames", "ServerApp.allow_remote_access")
    summary = "requests refused for a Host that local_hostnames does not list"


class ProxyStripsBaseUrl(Described):
    """Requests reach Jupyter without its ``base_url`` (``/lab`` instead of ``/jp/lab``) and
    get 404: a ``proxy_pass`` with a URI part replaces the location's prefix with that URI.

    Broken (``c.ServerApp.base_url = '/jp/'``)::

        location /jp/ {
            proxy_pass http://127.0.0.1:8888/;
        }

    Fix (no path after the port: nginx passes ``/jp/...`` unchanged)::

        location /jp/ {
            proxy_pass http://127.0.0.1:8888;
        }
    """

    id = "JH714"
    name = "proxy-strips-base-url"
    severity = Severity.ERROR
    traits = ("nginx proxy_pass", "ServerApp.base_url")
    summary = "requests arrive without base_url (proxy_pass with a URI part)"


class ProxyClientAddress(Described):
    """Requests come through a proxy (``X-Forwarded-For``) while ``trust_xheaders`` is off:
    Jupyter logs the proxy's address for every client and judges the scheme by the proxy's
    hop. Information: nothing is unsafe, the logs are less useful.

    Broken::

        c.ServerApp.trust_xheaders = False

    Fix (only the proxy must reach Jupyter: keep it on 127.0.0.1)::

        c.ServerApp.trust_xheaders = True
    """

    id = "JH715"
    name = "proxy-client-address"
    severity = Severity.INFO
    traits = ("ServerApp.trust_xheaders",)
    summary = "every client shows as the proxy's address"


LIVE_RULES: tuple[Described, ...] = (
    ProxyHostPort(),
    ProxyWebsocket(),
    ProxyForwardedProto(),
    ProxyHostNotLocal(),
    ProxyStripsBaseUrl(),
    ProxyClientAddress(),
)
