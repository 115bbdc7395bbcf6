"""Jupyter settings baked into the image; jupyter_hardening audits them at every start."""

import os

c = get_config()  # noqa: F821

# `docker run -p` reaches the container from outside, so Jupyter listens on all of the
# container's interfaces; publish the port on the host's loopback only, for the host's nginx.
c.ServerApp.ip = "0.0.0.0"  # noqa: S104 - see the accepted risks below
c.ServerApp.port = 8888
c.ServerApp.base_url = "/jp/"
c.ServerApp.trust_xheaders = True
c.IdentityProvider.secure_cookie = True
# The argon2 hash comes from `docker run -e JUPYTER_PASSWORD_HASH=...`; without it, no start.
c.PasswordIdentityProvider.hashed_password = os.environ.get("JUPYTER_PASSWORD_HASH", "")
c.PasswordIdentityProvider.password_required = True
c.Hardening.public_url = "https://jupyter.example.com:8443/jp/"
# What listening on 0.0.0.0 costs, and why it is acceptable with the `docker run` line of docs/deployment.md.
_ONLY_NGINX = (
    "the port is published on the host's loopback only (-p 127.0.0.1:8888:8888) and the "
    "container has a Docker network of its own, so only the host's nginx reaches Jupyter"
)
c.Hardening.accepted_risks = {
    "JH101": f"plain http only between the host's nginx and the container: {_ONLY_NGINX}",
    "JH701": f"X-Forwarded-* headers come from the host's nginx: {_ONLY_NGINX}",
    "JH705": f"nginx cannot be bypassed: {_ONLY_NGINX}",
}
