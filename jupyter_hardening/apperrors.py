"""Config errors of the commands, told in one line instead of traitlets' own CRITICAL line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
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


@contextmanager
def config_errors_as(
    log: logging.Logger | logging.LoggerAdapter[Any], fail: Callable[[str], object]
) -> Iterator[None]:
    """Run an app's initialize; when traitlets exits on a bad value, ``fail`` with its message.

    traitlets logs a CRITICAL line and exits 1; for these commands 1 has another meaning, and a
    refused value is one line and exit 2, which ``fail`` prints.
    """
    with config_errors(log) as errors:
        try:
            yield
        except SystemExit as e:
            if e.code and errors.messages:
                fail(errors.messages[0])
            raise
