"""Session id generation.

Ids look like ``test_generation_v3_calculator_py_20251023_143022_3f9a1c``: the
workflow type, a slug of the target file name, the UTC start time and 24 random
bits, so two starts in the same second still differ (stores also refuse an
existing id, and the engine retries).
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from pathlib import PurePosixPath

__all__ = ["new_session_id"]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_MAX_SLUG = 40


def new_session_id(workflow_type: str, target_file: str, now: datetime | None = None) -> str:
    """Return a fresh session id for ``workflow_type`` working on ``target_file``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    slug = _NOT_SLUG.sub("_", PurePosixPath(target_file).name.lower()).strip("_")[:_MAX_SLUG]
    parts = [
        workflow_type,
        slug or "target",
        moment.strftime("%Y%m%d_%H%M%S"),
        secrets.token_hex(3),
    ]
    return "_".join(parts)
