"""config.json -> launch plan: the policy half of `create` (see compile.py)."""
