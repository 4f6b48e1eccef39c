"""Allow ``python -m voice``."""

from voice.cli.main import main

raise SystemExit(main())
