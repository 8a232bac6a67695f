"""``python -m cli``: the same as the ``newsdesk`` command."""

import sys

from cli import main

sys.exit(main())
