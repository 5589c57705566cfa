"""``python -m pos_cutover``: the ``pos-cutover`` command."""

import sys

from .cli import main

sys.exit(main())
