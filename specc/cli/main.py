"""The entry point of the console script and of ``python -m specc``.

The commands an editor or a pre-commit hook runs on every save (``specc
validate FILES``, ``specc --version``) and the common forms of ``specc export``
and ``specc build`` (a CI job's) start without typer: importing it and building
its pydantic-checked parameters is about a tenth of validate's time and of
export's, and 40 ms of every build. Every other command line, and any validate,
export or build line a fast path does not take (help, usage errors, export's
--weights, build's --plugin), goes to typer (specc/cli/app.py).
"""

import os
import sys

from specc.collector import paused


def run() -> None:
    """Run the command line in ``sys.argv``; exits with the command's code."""
    sys.exit(main(sys.argv[1:]))


def main(args: list[str]) -> int:
    """Run one command line (without the program name); its exit code."""
    # Our own process: TensorFlow's C++ start-up lines (oneDNN, CUDA probes) are not
    # for specc's users unless they ask (specc.building.startup keeps to the level they set).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # specc's pydantic models are its own: looking for pydantic plugins (reading every
    # installed package's entry points) would cost validate about 10 ms.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "1")
    try:
        code = _fast(args)
        if code is None:
            from specc.cli.app import command

            command()(args=args, prog_name="specc")  # exits
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except Exception as exc:  # noqa: BLE001 - the last line of defence, see the docstring
        code = internal(exc)
    return code


INTERNAL = 3


def internal(exc: BaseException) -> int:
    """Report an exception specc did not expect in one line (the traceback under
    SPECC_DEBUG=1); the exit code for it."""
    import traceback

    if os.environ.get("SPECC_DEBUG") == "1":
        traceback.print_exception(exc, file=sys.stderr)
    print(f"specc: internal error: {type(exc).__name__} in {where(exc)}; "
          "please report it with the input", file=sys.stderr, flush=True)
    return INTERNAL


def where(exc: BaseException) -> str:
    """The innermost place in specc's own code that the exception passed through,
    as a path below the package (``expanding/instances.py:186``)."""
    import traceback

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = "an unknown place"
    for frame in traceback.extract_tb(exc.__traceback__):
        path = os.path.abspath(frame.filename)
        if path.startswith(package + os.sep):
            found = f"{os.path.relpath(path, package)}:{frame.lineno}"
    return found


def _fast(args: list[str]) -> int | None:
    """The exit code of a command run without typer, or None when typer must run it."""
    if "_SPECC_COMPLETE" in os.environ:  # a shell-completion request, for typer
        return None
    try:
        if args == ["--version"]:
            from specc import __version__

            from specc.vocab.catalogs import version_text

            print(version_text(__version__), flush=True)
            return 0
        if args[:1] in (["validate"], ["export"], ["build"]):
            import importlib

            command = importlib.import_module(f"specc.cli.{args[0]}")  # that command's alone
            # Imports and the command make only long-lived objects or plain trees:
            # the cycle collector would walk them again and again for nothing.
            with paused():
                return command.fast(args[1:])
    # As typer's own main does for every command.
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        _quiet_closed_streams()
        return 1
    return None


def _quiet_closed_streams() -> None:
    """After EPIPE, nothing more can reach the reader: let the exit flush into /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):  # not a real file (a test's StringIO)
            pass
