"""checkpoint and restore (beside create -> start -> delete), through CRIU:
its command line (command) or its RPC (rpc), the descriptors and mounts
outside the container it must be told of (externals), and the two
commands (checkpoint, restore).  No other command imports this package.
"""
