"""Content files -> a checked Bank: sources found and read, each file's YAML checked in one
pass over its events (or composed and walked where it has a problem), every problem at
file:line.
"""
