"""Generate ``specs/session-state.schema.json`` from the Session model.

Run ``python -m pos_engine.schema > specs/session-state.schema.json`` after
changing the model; a test fails while the two differ.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ._models import Session

__all__ = ["SESSION_SCHEMA_ID", "render_session_schema", "session_state_schema"]

SESSION_SCHEMA_ID = "https://pos-workflow.dev/specs/session-state.schema.json"


def session_state_schema() -> dict[str, Any]:
    """Return the JSON Schema (2020-12) of a stored session record."""
    schema = Session.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SESSION_SCHEMA_ID,
        **schema,
    }


def render_session_schema() -> str:
    """Return the schema as the exact text stored in specs/."""
    return json.dumps(session_state_schema(), indent=2, sort_keys=False) + "\n"


def main() -> None:
    """Print the session-state schema to stdout."""
    sys.stdout.write(render_session_schema())


if __name__ == "__main__":
    main()
