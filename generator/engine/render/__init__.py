"""Renderers: the compiled sqlglot tree → SQL text for one backend (duckdb, spark).

The compiler emits DuckDB-flavoured trees (its functions are DuckDB's); a renderer decides
how each is spelled for its backend, and refuses loudly what it cannot express
(`base.Renderer.unsupported`), never printing something that computes a different number.
"""
from __future__ import annotations

from generator.engine.render.base import Renderer, UnsupportedOnBackend


def renderer(backend: str) -> Renderer:
    """The renderer of a backend name ("duckdb" or "spark"), loud for any other."""
    if backend == "duckdb":
        from generator.engine.render.duckdb import DuckDBRenderer

        return DuckDBRenderer()
    if backend == "spark":
        from generator.engine.render.spark import SparkRenderer

        return SparkRenderer()
    raise ValueError(f"unknown engine backend {backend!r}: use duckdb or spark")


__all__ = ["Renderer", "UnsupportedOnBackend", "renderer"]
