"""The ``dancu`` command line. Each subcommand lives in its own module under ``pipelines/commands``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Sequence

from pipelines import commands
from pipelines.errors import CommandError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dancu",
        description=(
            "dancu — làm sạch dữ liệu dân cư hằng đêm (đúng, đủ, sạch, sống). "
            "Nightly cleaning of Vietnam's population records."
        ),
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def _quiet_library_warnings() -> None:
    """Dagster flags the APIs we use as preview/beta; that is for developers, not for officers reading the CLI."""
    import dagster as dg

    for category in (dg.PreviewWarning, dg.BetaWarning, dg.SupersessionWarning):
        warnings.filterwarnings("ignore", category=category)


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_library_warnings()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except CommandError as error:
        print(f"dancu {args.command}: lỗi / error: {error}", file=sys.stderr)
        return 2
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
