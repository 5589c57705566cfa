"""Test helpers for session store backends (imports pytest: use from tests only)."""

import pytest

# Rewrite the suite's plain asserts into detailed failure reports, as in test modules.
pytest.register_assert_rewrite("pos_engine.testing.conformance")

from .conformance import StoreConformance, StoreFactory, make_session  # noqa: E402

__all__ = ["StoreConformance", "StoreFactory", "make_session"]
