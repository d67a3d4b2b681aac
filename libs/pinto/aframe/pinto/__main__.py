"""``python -m aframe.pinto``: the pinto command line."""

import sys

from aframe.pinto.cli import main

sys.exit(main())
