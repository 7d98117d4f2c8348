"""The front door: the ``parcours`` command group and ``main()``, which turns user mistakes into one line.

Each verb group lives in its own module of this package and is thin: it parses arguments and calls
plain functions of the package that does the work, imported inside the command, so that
``parcours simulate`` never loads the report, Locust or gevent.
"""

from __future__ import annotations

import signal
import sys
import threading
import traceback
from types import FrameType

import click

from parcours import __version__
from parcours.cli.backend import backend
from parcours.cli.explain import explain
from parcours.cli.realism import realism
from parcours.cli.replay import locust, locustfile, replay
from parcours.cli.report import compare, report
from parcours.cli.simulate import simulate
from parcours.cli.specs import personas, scenarios, validate
from parcours.errors import ParcoursError

EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports a process SIGTERM ended
#: Signals that end a command the way SIGTERM does (its output cleaned up, exit 128 + the signal):
#: SIGHUP when its terminal closes, SIGQUIT (Ctrl-\\) instead of a core dump.
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP, SIGQUIT), raised where Ctrl-C would be, so that it cleans up the same way."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def say(self) -> None:
        name = signal.Signals(self.signum).name
        click.echo("parcours: terminated" + ("" if self.signum == signal.SIGTERM else f" ({name})"), err=True)


#: The ending signals this process received: a library may wrap the interruption raised in its code
#: into an error of its own (pydantic-core does, while it builds a schema), which still means "stopped".
_received: list[int] = []


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Terminated(signum)


def _stopped(exc: BaseException) -> Terminated | None:
    """The interruption behind ``exc``: itself, one it was raised from, or a signal received meanwhile."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, Terminated):
            return seen
        seen = seen.__cause__ or seen.__context__
    return Terminated(_received[0]) if _received else None


def _end_if_stopped(exc: BaseException) -> None:
    """A signal stopped the command, whatever ``exc`` it surfaced as: the one line and exit code of it."""
    stopped = _stopped(exc)
    if stopped is not None:
        stopped.say()
        sys.exit(stopped.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="parcours")
@click.option("--debug", is_flag=True, help="Show the traceback of an unexpected error.")
def cli(debug: bool) -> None:
    """Simulate customers moving between channels, report on it, replay it against a backend."""


for command in (
    simulate,
    personas,
    scenarios,
    validate,
    report,
    compare,
    realism,
    explain,
    replay,
    backend,
    locustfile,
    locust,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; user mistakes become one line on stderr and exit code 2, anything else one line too.

    Exit codes: 0 done; 1 failed (an unexpected error: one line, ``--debug`` for the traceback; a
    command's own failure, such as a replay threshold); 2 bad input; 130 Ctrl-C; 143 SIGTERM (129
    SIGHUP, 131 SIGQUIT, cleaned up the same way). A command
    may return others (``parcours replay``: 3 invalid).
    """
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args[: args.index("--")] if "--" in args else "--debug" in args
    main_thread = threading.current_thread() is threading.main_thread()
    # only where nothing else was set: a SIGHUP ignored by nohup stays ignored
    previous = {sig: signal.getsignal(sig) for sig in ENDING_SIGNALS} if main_thread else {}
    _received.clear()
    for sig, handler in previous.items():
        if handler is signal.SIG_DFL:
            signal.signal(sig, _on_signal)
    try:
        _run(args, debug)
    finally:
        for sig, handler in previous.items():
            if handler is signal.SIG_DFL:
                signal.signal(sig, handler)


def _run(args: list[str], debug: bool) -> None:
    try:
        code = cli.main(args=args, prog_name="parcours", standalone_mode=False)
    except ParcoursError as exc:
        click.echo(f"parcours: error: {exc}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.Abort as exc:  # click's wrapping of KeyboardInterrupt, and so of SIGTERM
        _end_if_stopped(exc)
        click.echo("parcours: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"parcours: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except Terminated as exc:
        exc.say()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("parcours: interrupted", err=True)
        sys.exit(130)
    except OSError as exc:
        _end_if_stopped(exc)
        if debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        click.echo(f"parcours: error: {where}{exc.strerror or exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        _end_if_stopped(exc)
        if debug:
            raise
        text = " ".join(str(exc).split()) or "no message"
        click.echo(
            f"parcours: error: unexpected {type(exc).__name__}: {text} (--debug shows the traceback)",
            err=True,
        )
        traceback.clear_frames(exc.__traceback__)
        sys.exit(1)
    # without standalone mode, ctx.exit(n) comes back as the return value
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
