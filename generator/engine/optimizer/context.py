"""What the passes may know besides the plans: model facts and the scan cache's stage."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.engine.optimizer.scan_cache import ScanStage


@dataclass(frozen=True)
class OptimizeContext:
    # (table, column), lower case, known to hold no duplicate value (the one side of
    # relationships, checked on the data): joins to them never duplicate a fact row
    unique: frozenset[tuple[str, str]] = frozenset()
    # the cross-query cache as this compile sees it; None: pre-aggregations are CTEs
    cache: "ScanStage | None" = None
