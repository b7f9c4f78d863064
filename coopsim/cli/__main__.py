"""``python -m coopsim.cli``: the same as the ``coopsim`` command."""

import sys

from coopsim.cli import main

sys.exit(main())
