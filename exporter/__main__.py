"""`python -m exporter` is the same as the `interview-deck` command."""

from exporter.cli.commands import main

if __name__ == "__main__":
    main()
