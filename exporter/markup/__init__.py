"""Content text's language (CommonMark, math, fenced code): parsed once, scanned for what the
loader checks, rendered to card HTML.
"""
