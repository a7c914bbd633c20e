"""The phrasing suite's understood rates per family and locale, as a Markdown table for the README.

    .venv/bin/python bench/phrasings.py [--local-only] [--locale en-GB ...] [--misses] [--out FILE]

Resolves every phrasing of tests/phrasings.yaml through the local resolver and, unless
--local-only, through virtual-alexa against the real webhook (started on a free loopback port,
as tests/test_phrasings.py does; it needs `npm ci --prefix tests/virtual_alexa`). Prints the
table (each cell "local / model"); --misses also lists every misunderstood phrasing, --out
writes the table to a file.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
SUITE_MODULE = REPO / "tests" / "test_phrasings.py"


def _suite_module() -> ModuleType:
    """tests/test_phrasings.py, which holds the suite's loading, resolving and reporting."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # this checkout's skill package, as pytest would import it
    spec = importlib.util.spec_from_file_location("test_phrasings", SUITE_MODULE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {SUITE_MODULE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    suite = _suite_module()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local-only", action="store_true", help="skip virtual-alexa")
    parser.add_argument(
        "--locale",
        action="append",
        choices=suite.LOCALES,
        help="a locale to measure (repeatable; default: all)",
    )
    parser.add_argument("--misses", action="store_true", help="list misunderstood phrasings")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    args = parser.parse_args(argv)
    locales = tuple(args.locale or suite.LOCALES)

    families = suite.load_suite()
    local = suite.local_rates_for(families, locales)
    model = None
    if not args.local_only:
        problem = suite.harness_problem()
        if problem is not None:
            print(f"phrasings: {problem} (or use --local-only)", file=sys.stderr)
            return 2
        with suite.running_webhook() as url:
            model = suite.run_model(families, url, locales)

    table = suite.markdown_table(families, local, model)
    print(table)
    if args.out is not None:
        args.out.write_text(table, encoding="utf-8")
    if args.misses:
        for locale in locales:
            ways = [("local resolver", local[locale])]
            if model is not None:
                ways.append(("interaction model (virtual-alexa)", model.rates[locale]))
            for way, rates in ways:
                print(f"\n{locale}, {way}: {len(rates.misses)} misunderstood")
                print(suite.describe_misses(rates.misses, limit=len(rates.misses)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
