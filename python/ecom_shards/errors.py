# The package's error type: every problem with a shard directory is a ShardError naming the file and the place.


class ShardError(ValueError):
    """A shard file, manifest or stream position that cannot be used; the message names the file and the place."""
