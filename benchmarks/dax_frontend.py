"""Throughput of the DAX front-end on the real-world corpus (../shared/dax-corpus).

    python benchmarks/dax_frontend.py [--repeat N]

Prints measures per second for lexing, parsing, formatting and the format round trip
(format, re-parse, compare). The best of N repeats is reported, to damp noise.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.dax import format_dax, parse_expression  # noqa: E402
from generator.dax.errors import SourceText  # noqa: E402
from generator.dax.lexer import tokenize  # noqa: E402

CORPUS = REPO / ".." / "shared" / "dax-corpus" / "measures.jsonl"


def _lex(texts: list[str]) -> None:
    for text in texts:
        tokenize(SourceText(text))


def _parse(texts: list[str]) -> None:
    for text in texts:
        parse_expression(text)


def _format(texts: list[str]) -> None:
    for text in texts:
        format_dax(text)


def _round_trip(texts: list[str]) -> None:
    for text in texts:
        if parse_expression(format_dax(text)) != parse_expression(text):
            raise AssertionError("round trip changed the AST")


def best_time(fn, texts: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(texts)
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    texts = [json.loads(line)["expression"] for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    chars = sum(len(t) for t in texts)
    print(f"corpus: {len(texts)} measures, {chars:,} characters, best of {args.repeat}")
    print(f"{'stage':<12} {'seconds':>9} {'measures/s':>12} {'MB/s':>7}")
    for name, fn in (("lex", _lex), ("parse", _parse), ("format", _format), ("round trip", _round_trip)):
        seconds = best_time(fn, texts, args.repeat)
        print(f"{name:<12} {seconds:>9.4f} {len(texts) / seconds:>12,.0f} {chars / seconds / 1e6:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
