"""Randomness keyed by identity, not by call order.

Every column draws from its own PCG64 stream seeded by (seed, table, column), so adding a
column or a table never shifts the values of another. Non-uniform distributions are
derived here from uniforms with our own inverse-CDF / Box-Muller code, so a change in
numpy's sampling algorithms cannot change the data.

Streams are also indexed by row: `uniform_at(seed, table, column, start, n)` is rows
start..start+n-1 of the same stream (PCG64 is advanced by `start` draws: one 64-bit output
per double), so a table generated in chunks has the same values whatever the chunk size.
"""
from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, table: str, column: str) -> np.random.Generator:
    key = [seed & 0xFFFFFFFF, zlib.crc32(table.encode()), zlib.crc32(column.encode())]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(key)))


def uniform(seed: int, table: str, column: str, n: int) -> np.ndarray:
    """n uniforms in [0, 1) from the (table, column) stream."""
    return uniform_at(seed, table, column, 0, n)


def uniform_at(seed: int, table: str, column: str, start: int, n: int) -> np.ndarray:
    """Uniforms of rows start..start+n-1 of the (table, column) stream: equal to
    `uniform(seed, table, column, start + n)[start:]` without drawing the first `start`."""
    g = stream(seed, table, column)
    if start:
        g.bit_generator.advance(start)  # random() takes one 64-bit output per double
    return g.random(n)


def normal(seed: int, table: str, column: str, n: int) -> np.ndarray:
    """Standard normals by Box-Muller from two keyed uniform streams."""
    return normal_at(seed, table, column, 0, n)


def normal_at(seed: int, table: str, column: str, start: int, n: int) -> np.ndarray:
    """Standard normals of rows start..start+n-1 (row-indexed, like `uniform_at`)."""
    u1 = 1.0 - uniform_at(seed, table, column + "#1", start, n)  # (0, 1]: log is finite
    u2 = uniform_at(seed, table, column + "#2", start, n)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def choice(u: np.ndarray, weights: np.ndarray | list[float]) -> np.ndarray:
    """Index drawn with the given weights, by inverse CDF of the uniforms `u`."""
    w = np.asarray(weights, dtype=np.float64)
    cdf = np.cumsum(w / w.sum())
    cdf[-1] = 1.0
    return np.searchsorted(cdf, u, side="right").astype(np.int64)


def poisson_small(u: np.ndarray, lam: float, cap: int = 30) -> np.ndarray:
    """Poisson(lam) by inverse CDF over a short table; fine for small lam."""
    k = np.arange(cap + 1)
    log_pmf = -lam + k * np.log(lam) - np.cumsum(np.log(np.maximum(k, 1)))
    return choice(u, np.exp(log_pmf))
