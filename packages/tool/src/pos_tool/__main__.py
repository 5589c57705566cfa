"""``python -m pos_tool``: the ``pos-workflow`` command (serves by default)."""

import sys

from .cli import main

sys.exit(main())
