"""The program's entry point: ``python -m exporter`` and the ``interview-deck`` console
script both start here. It imports nothing before it can catch Ctrl-C, so an interrupt at
any moment, the imports included, is one line and exit 130, never a traceback."""

import sys


def main() -> None:
    """Run ``interview-deck`` with the arguments in ``sys.argv``."""
    try:
        from exporter.cli.commands import main as run

        run()
    except KeyboardInterrupt as exc:  # before the command line was ready to say it itself
        sys.stderr.write("Aborted!\n")
        sys.exit(128 + int(getattr(exc, "signum", 2)))  # 2: SIGINT


if __name__ == "__main__":
    main()
