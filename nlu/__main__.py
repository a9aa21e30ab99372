"""Entry point: python -m nlu parse | train [--if-stale] | eval [--ood]."""

import sys

from nlu.cli import main

sys.exit(main())
