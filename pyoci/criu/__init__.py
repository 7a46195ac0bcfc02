"""checkpoint and restore (beside create -> start -> delete), through CRIU's
RPC only (rpc), with the options runc's flags become (options), the
descriptors and mounts outside the container CRIU must be told of
(externals), and the two commands (checkpoint, restore).  No other command
imports this package.
"""
