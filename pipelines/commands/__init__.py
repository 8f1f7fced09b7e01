"""One module per ``dancu`` subcommand; each exposes ``register(subparsers)`` that sets ``handler``."""
