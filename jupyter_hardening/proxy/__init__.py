"""The proxy-config generator, in the order a config is made:

- ``options``: the values a config is made of, validated (names, ports, paths, the upstream),
  and the Jupyter settings that must match it;
- ``probe``: what the installed proxy supports (its version, TLS library, modules) and its own
  test of a config (nginx -t, caddy validate, httpd -t);
- ``nginx``, ``caddy``, ``apache``: building each proxy's config from the options;
  ``text``: the Caddyfile and httpd emitters with their quoting;
- ``command``: the ``*-snippet`` subcommands that tie them together.
"""
