"""The `ctsync` commands besides `operator`: validate, plan, apply, status, explain and demo.

Each module's `register(subparsers)` adds its command; `args.run(args, args.command_parser)` runs it and
returns the exit code. A failure the user can act on is one line on stderr with a hint, never a traceback
(`--debug` shows it). Registering imports nothing heavy: the Graph SDK (through ctsync.reconcile), the
kubernetes client and the emulator are imported by the commands that use them, when they run, so that
`ctsync --help` and `ctsync validate` start fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Final, NoReturn

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1  # also for usage errors: argparse's own 2 would read as "changes" from `ctsync plan`
EXIT_CHANGES: Final = 2  # `ctsync plan`: the tenants differ from the manifests
EXIT_ATTENTION: Final = 3  # `ctsync explain`: warnings, pending changes or provisioning failures
EXIT_INTERRUPTED: Final = 130

Subparsers = argparse._SubParsersAction  # argparse has no public name for the object add_subparsers returns
Run = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A failure to report as one line: what went wrong, and what to do about it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} (hint: {self.hint})" if self.hint else self.message


class CommandParser(argparse.ArgumentParser):
    """The CLI's parsers (subparsers inherit the class): usage errors, unknown arguments included, exit 1
    (see EXIT_ERROR)."""

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        # Left over, unknown arguments would reach the top-level parser, whose error exits 2.
        parsed, unknown = super().parse_known_args(args, namespace)
        if unknown:
            self.error(f"unrecognized arguments: {' '.join(unknown)}")
        return parsed, unknown

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(EXIT_ERROR)


def add_command(subparsers: Subparsers, name: str, run: Run, *, help: str, description: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name, help=help, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks and library warnings on errors")
    parser.set_defaults(run=lambda args, _parser: _run_guarded(name, run, args), command_parser=parser)
    return parser


def add_cluster_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig to use (default: $KUBECONFIG, ~/.kube/config)")
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context to use (default: the current one)")


def add_output_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", "-o", choices=("text", "json"), default="text", help="text for people (default) or JSON"
    )


def _run_guarded(name: str, run: Run, args: argparse.Namespace) -> int:
    # azure-identity logs every failed token request as a warning; the command reports the failure itself.
    logging.getLogger("azure").setLevel(logging.WARNING if args.debug else logging.CRITICAL)
    try:
        return run(args)
    except CommandError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"ctsync {name}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Whoever read stdout stopped (`| head`): nothing to say, and nothing more may reach the closed pipe.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"ctsync {name}: unexpected error: {type(exc).__name__}: {exc} (hint: rerun with --debug for a "
            "traceback, and report it)",
            file=sys.stderr,
        )
        return EXIT_ERROR
