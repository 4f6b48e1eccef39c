"""Allow ``python -m voice``."""

from voice.cli import main

raise SystemExit(main())
