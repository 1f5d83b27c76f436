"""Power BI Desktop oracle (../shared/dax-corpus/oracle/): every function the engine has a
handler for must pass all of its probes; every other function must be rejected with an
error, never answer with a value."""
from __future__ import annotations

import pytest

from tests.conftest import needs_shared
from tests.engine import oracle

pytestmark = needs_shared("dax-corpus/oracle")


@pytest.fixture(scope="module")
def outcomes():
    return oracle.run()


def test_no_probe_fails(outcomes):
    failed = [(o.function, o.expr, o.expected, o.actual) for o in outcomes if o.status == "fail"]
    assert failed == []


def test_supported_functions_pass_every_probe(outcomes):
    status = oracle.per_function(outcomes)
    supported = {f for f, s in status.items() if s == "supported"}
    # a floor at the last measured count (264 of 294, docs/dax-support.md), so a regression
    # that turns passing functions into errors is noticed; raise it when more pass
    assert len(supported) >= 264, len(supported)
    for name in ("RELATED", "PERCENTILE.INC", "PERCENTILE.EXC", "CONVERT", "CURRENCY", "MROUND", "QUOTIENT"):
        assert status[name] == "supported"
