"""The command line: parses options, calls one function of ``exporter.pipeline`` per
command, prints what it returns and exits; the only code that imports click.
"""
