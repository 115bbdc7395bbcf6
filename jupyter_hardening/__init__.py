"""jupyter_hardening: audit a Jupyter Server's security settings, and refuse dangerous ones."""

__version__ = "0.1.0"


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Tell jupyter_server where the extension's loader lives."""
    return [{"module": "jupyter_hardening.extension"}]
