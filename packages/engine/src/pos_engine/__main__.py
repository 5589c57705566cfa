"""``python -m pos_engine`` runs the engine demo."""

import sys

from ._demo import main

sys.exit(main())
