"""Config errors of the commands, told in one line instead of traitlets' own CRITICAL line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class ConfigErrors(logging.Filter):
    """Hold back traitlets' "Bad config encountered" line; the command prints its own."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.CRITICAL and str(record.msg).startswith("Bad config"):
            self.messages.append(record.getMessage().split(": ", 1)[-1])
            return False
        return True


@contextmanager
def config_errors(log: logging.Logger | logging.LoggerAdapter[Any]) -> Iterator[ConfigErrors]:
    """Capture the config error an app logs before it exits, so it can be told in one line."""
    logger = log.logger if isinstance(log, logging.LoggerAdapter) else log
    errors = ConfigErrors()
    logger.addFilter(errors)
    try:
        yield errors
    finally:
        logger.removeFilter(errors)
