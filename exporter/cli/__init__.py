"""The command line: parses options, calls one pipeline function per command, prints what it
returns and exits; the only code that imports click.
"""
