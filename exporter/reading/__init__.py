"""Packages read back: any .apkg summarised, Anki's exports as notes of our note type, two
packages compared.
"""
