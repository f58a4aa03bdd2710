"""What a build keeps on this machine between runs (the build record, the work cache, the
lock); used by the pipeline only.
"""
