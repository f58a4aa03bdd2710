"""A checked Bank -> notes with their card HTML, the note type and its templates, and the
preview page.
"""
