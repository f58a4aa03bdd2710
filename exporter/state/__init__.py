"""What a build keeps on this machine between runs (the build record, the file cache, the
lock), and how each content file is made ready for the package (``units``: in this process
or in workers); used by the pipeline only.
"""
