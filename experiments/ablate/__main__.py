"""`python -m experiments.ablate` (or `python experiments/ablate` from a checkout)."""

import os
import sys

if __package__ in (None, ""):  # `python experiments/ablate`: put the checkout on the path
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from experiments.ablate.cli import main  # noqa: E402

raise SystemExit(main())
