"""How long a recorded question may be: the one place the default lives (no heavy imports)."""

from __future__ import annotations

# A question is seconds long; ten minutes of babble took 31 s to decode and held up the batch.
DEFAULT_MAX_SECONDS = 300.0
