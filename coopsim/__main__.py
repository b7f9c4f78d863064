"""``python -m coopsim``: the same as the ``coopsim`` command (and ``python -m coopsim.cli``)."""

import sys

from coopsim.cli import main

sys.exit(main())
