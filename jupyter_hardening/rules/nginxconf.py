"""JH75x-JH76x — what `jupyter hardening nginx-check` finds in the nginx config in front of Jupyter.

Judged from nginx files, not from the server's settings (see ``jupyter_hardening/nginxcheck.py``
and docs/proxy-diagnosis.md): each finding names ``file:line`` and the line that fixes it. The
config ``nginx-snippet`` writes gives none. nginx-check reads ``c.Hardening.accepted_risks``
from the same Jupyter config files as the server: an accepted id is reported as accepted and
does not count towards the exit status.
"""

from __future__ import annotations

from .base import Described, Severity


class HostWithoutPort(Described):
    """``proxy_set_header Host $host;`` (or ``$server_name``) on a listen port other than
    443/80 drops the port the browser puts in Origin, and a location without a Host line
    sends the ``proxy_pass`` address: either way Jupyter's origin check blocks the login form
    (404, "Blocking Cross Origin API request") and every websocket.

    Broken (``listen 8443 ssl;``)::

        proxy_set_header Host $host;

    Fix::

        proxy_set_header Host $host:8443;
    """

    id = "JH750"
    name = "host-without-port"
    aliases = ("host-not-passed",)
    severity = Severity.ERROR
    traits = ("nginx proxy_set_header Host",)
    summary = "`Host $host` on a listen port other than 443/80, or no Host at all"


class HostFromClient(Described):
    """``proxy_set_header Host $http_host;`` passes whatever Host the client sent (gixy:
    host_spoofing), also to server blocks that were never meant for it.

    Broken::

        proxy_set_header Host $http_host;

    Fix (``$host`` is the server_name nginx matched; add the port when it is not 443)::

        proxy_set_header Host $host:8443;
    """

    id = "JH751"
    name = "host-from-client"
    severity = Severity.WARNING
    traits = ("nginx proxy_set_header Host",)
    summary = "`Host $http_host`: the client's Host, unchecked"


class WebsocketNotPassed(Described):
    """Websockets do not pass: without ``proxy_http_version 1.1`` and the ``Upgrade`` and
    ``Connection`` headers (hop-by-hop, so nginx drops them), notebooks never connect to their
    kernel and terminals stay blank. A ``Connection`` variable needs its ``map``.

    Broken::

        proxy_pass http://127.0.0.1:8888;
        proxy_set_header Host $host:8443;

    Fix (the ``map`` goes in ``http {}``)::

        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;

        map $http_upgrade $connection_upgrade { default upgrade; '' close; }
    """

    id = "JH752"
    name = "websocket-not-passed"
    severity = Severity.ERROR
    traits = ("nginx proxy_set_header Upgrade/Connection", "nginx proxy_http_version")
    summary = (
        "websockets: `proxy_http_version 1.1`, `Upgrade`, `Connection` (and its `map`) missing"
    )


class OriginHidden(Described):
    """``proxy_set_header Origin "";`` (or ``Referer``, ``Sec-WebSocket-Origin``) hides the
    browser's origin from Jupyter: its origin check then lets any web site's pages open kernel
    websockets and run code. Tutorials add it to silence "Blocking Cross Origin"; the cause is
    the Host line (JH750).

    Broken::

        proxy_set_header Origin "";

    Fix (remove that line, and pass the port in Host)::

        proxy_set_header Host $host:8443;
    """

    id = "JH753"
    name = "origin-hidden"
    severity = Severity.ERROR
    traits = ("nginx proxy_set_header Origin",)
    summary = '`proxy_set_header Origin ""` (or Referer): the origin check is blinded'


class ProxyPassUri(Described):
    """``proxy_pass`` with a URI part: a different prefix than the location's replaces it, so
    Jupyter gets paths without its base_url (error); the same prefix still makes nginx decode
    and re-encode the path (gixy: proxy_pass_normalized), which breaks file names with ``%2F``
    or spaces (warning).

    Broken (``c.ServerApp.base_url = '/jp/'``)::

        location /jp {
            proxy_pass http://127.0.0.1:8888/jp;
        }

    Fix (no path after the port)::

        location /jp/ {
            proxy_pass http://127.0.0.1:8888;
        }
    """

    id = "JH754"
    name = "proxy-pass-uri"
    severity = Severity.ERROR
    traits = ("nginx proxy_pass", "ServerApp.base_url")
    summary = "`proxy_pass` with a URI part: a different prefix loses base_url"


class BodySize(Described):
    """``client_max_body_size`` under 100m (nginx's default is 1m): a notebook is saved in one
    PUT of the whole file, so notebooks over that size (a few plots) fail to save with 413. The
    finding says how big a notebook the limit allows.

    Broken::

        client_max_body_size 10M;

    Fix (jupyter_server's own limit)::

        client_max_body_size 512m;
    """

    id = "JH755"
    name = "body-size"
    severity = Severity.WARNING
    traits = ("nginx client_max_body_size",)
    summary = "`client_max_body_size` under 100m: larger notebooks cannot be saved"


class ReadTimeout(Described):
    """``proxy_read_timeout`` under an hour (nginx's default is 60 s): nginx closes kernel and
    terminal websockets that stay quiet longer (a long computation, a coffee break).

    Broken::

        location /jp/ { proxy_pass http://127.0.0.1:8888; }   # 60 s by default

    Fix::

        proxy_read_timeout 1d;
        proxy_send_timeout 1d;
    """

    id = "JH756"
    name = "read-timeout"
    severity = Severity.WARNING
    traits = ("nginx proxy_read_timeout", "nginx proxy_send_timeout")
    summary = "`proxy_read_timeout` under an hour: idle kernels are cut"


class TLSProtocols(Described):
    """``ssl_protocols`` or ``ssl_ciphers`` beyond Mozilla's intermediate profile: TLS 1.0/1.1,
    or CBC, SHA-1 and 3DES suites that current browsers never need.

    Broken::

        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
        ssl_ciphers HIGH:!aNULL:!MD5;

    Fix (the ciphers are the intermediate profile's TLS 1.2 suites; nginx-snippet writes them)::

        ssl_protocols TLSv1.2 TLSv1.3;
    """

    id = "JH757"
    name = "tls-protocols"
    aliases = ("tls-ciphers",)
    severity = Severity.WARNING
    traits = ("nginx ssl_protocols", "nginx ssl_ciphers")
    summary = "`ssl_protocols`/`ssl_ciphers` beyond Mozilla's intermediate profile"


class SSLOn(Described):
    """``ssl on;`` is deprecated since nginx 1.15.0 and refused by 1.25.1 and newer; it also
    turns TLS on for every listen of the server.

    Broken::

        listen 443;
        ssl on;

    Fix::

        listen 443 ssl;
    """

    id = "JH758"
    name = "ssl-on"
    severity = Severity.WARNING
    traits = ("nginx ssl",)
    summary = "`ssl on;` (deprecated, refused by nginx 1.25.1+)"


class NoHSTS(Described):
    """No ``Strict-Transport-Security`` header reaches the browser from the Jupyter location: a
    first visit by http (a typed address, an old link) can be intercepted. An ``add_header`` in
    a location drops all of the server's ``add_header`` lines there.

    Broken::

        server { listen 443 ssl; location /jp/ { add_header X-Team ds; proxy_pass ...; } }

    Fix (at the server level, or in the location beside its own add_header lines)::

        add_header Strict-Transport-Security "max-age=63072000" always;
    """

    id = "JH759"
    name = "no-hsts"
    severity = Severity.WARNING
    traits = ("nginx add_header Strict-Transport-Security",)
    summary = "no `Strict-Transport-Security` reaching the location"


class ProxyBufferingOff(Described):
    """``proxy_buffering off`` ties a Jupyter connection to every slow client (gixy:
    proxy_buffering_off); Jupyter's websockets do not need it. Information.

    Broken::

        proxy_buffering off;

    Fix: remove the line (nginx buffers by default)::

        proxy_buffering on;
    """

    id = "JH760"
    name = "proxy-buffering-off"
    severity = Severity.INFO
    traits = ("nginx proxy_buffering",)
    summary = "`proxy_buffering off`"


class NoTLS(Described):
    """Jupyter is served without TLS: passwords, tokens and code cross the network in clear
    text.

    Broken::

        listen 8888;

    Fix (with ``ssl_certificate`` and ``ssl_certificate_key``; see ``nginx-snippet``)::

        listen 443 ssl;
    """

    id = "JH761"
    name = "no-tls"
    severity = Severity.ERROR
    traits = ("nginx listen",)
    summary = "Jupyter served without TLS"


class ForwardedProtoMissing(Described):
    """Neither ``X-Forwarded-Proto`` nor ``X-Scheme`` is passed behind TLS: Jupyter sees http,
    so its login cookie loses Secure and its redirects point to http.

    Broken::

        listen 443 ssl;
        location /jp/ { proxy_pass http://127.0.0.1:8888; }

    Fix (and ``c.ServerApp.trust_xheaders = True`` with Jupyter on 127.0.0.1)::

        proxy_set_header X-Forwarded-Proto $scheme;
    """

    id = "JH762"
    name = "forwarded-proto-missing"
    severity = Severity.WARNING
    traits = ("nginx proxy_set_header X-Forwarded-Proto", "ServerApp.trust_xheaders")
    summary = "neither `X-Forwarded-Proto` nor `X-Scheme` passed behind TLS"


class NoJupyterLocation(Described):
    """No location proxies to Jupyter (the running server's port or socket, ``--port`` or
    ``--upstream``, else Jupyter's usual ports 8888-8899): nothing was judged. Information.

    Broken (Jupyter runs on 8890, the file proxies elsewhere)::

        location / { proxy_pass http://127.0.0.1:3000; }

    Fix: name the port, or the file that holds Jupyter's server block::

        jupyter hardening nginx-check /etc/nginx/sites-available/jupyter --port 8890
    """

    id = "JH768"
    name = "no-jupyter-location"
    severity = Severity.INFO
    traits = ("nginx proxy_pass",)
    summary = "no location proxies to Jupyter (nothing judged)"


class Gixy(Described):
    """gixy-next's findings, when gixy is installed (``pip install gixy-next``); each is named
    ``gixy:<plugin>``, a warning for gixy's HIGH and MEDIUM, else information. Plugins that say
    what an own check says (host_spoofing: JH751, proxy_buffering_off: JH760) are left out.

    Broken (gixy: version_disclosure)::

        server_tokens on;

    Fix: what gixy's reference for the plugin says::

        server_tokens off;
    """

    id = "JH769"
    name = "gixy"
    aliases = ("gixy:<plugin>",)
    severity = Severity.WARNING
    traits = ("nginx (gixy-next)",)
    summary = "gixy-next's findings, when gixy is installed"


NGINX_RULES: tuple[Described, ...] = (
    HostWithoutPort(),
    HostFromClient(),
    WebsocketNotPassed(),
    OriginHidden(),
    ProxyPassUri(),
    BodySize(),
    ReadTimeout(),
    TLSProtocols(),
    SSLOn(),
    NoHSTS(),
    ProxyBufferingOff(),
    NoTLS(),
    ForwardedProtoMissing(),
    NoJupyterLocation(),
    Gixy(),
)
