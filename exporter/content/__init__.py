"""Content files -> a checked Bank: sources found and read, YAML composed and walked, every
problem at file:line.
"""
