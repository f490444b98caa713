"""One error type for everything a user can get wrong; CLIs print it on one line, exit 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import wraps
from typing import NoReturn, TypeVar

EXIT_USAGE = 2


class PodlensError(Exception):
    """A problem with the user's input or the outside world, explained in one line."""


F = TypeVar("F", bound=Callable[..., int])


def cli_errors(prog: str) -> Callable[[F], F]:
    """Wrap a CLI ``main`` so a PodlensError becomes ``prog: error: ...`` and exit code 2."""

    def deco(fn: F) -> F:
        @wraps(fn)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            try:
                return fn(*args, **kwargs)
            except PodlensError as e:
                print(f"{prog}: error: {e}", file=sys.stderr)
                return EXIT_USAGE
            except KeyboardInterrupt:
                print(f"{prog}: interrupted", file=sys.stderr)
                return 130

        return wrapper  # type: ignore[return-value]

    return deco


class CliParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors (a missing flag, a bad choice) are PodlensErrors:
    under :func:`cli_errors` they print as one line and exit 2, like every other error.
    Subcommand parsers made from it are of this class too."""

    def error(self, message: str) -> NoReturn:
        raise PodlensError(message)
