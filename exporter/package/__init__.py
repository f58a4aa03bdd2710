"""Notes and the build history -> the bytes of a deterministic .apkg, computed in memory."""
