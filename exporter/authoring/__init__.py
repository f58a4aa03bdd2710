"""What writes YAML for the user: a published page imported, Anki edits pulled back, content
files written or spliced.
"""
