"""Whitelisted methods, one module per capability; each is an `args.api_method` (typed arguments,
one parser, one permission check)."""
