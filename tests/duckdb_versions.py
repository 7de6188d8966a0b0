"""What tests expect of the DuckDB they run on: the app runs on 2.0.x and on 1.5.6
(the newest client MotherDuck accepts), and CI runs the unit and app tiers on both."""

from __future__ import annotations

import duckdb

MAJOR = int(duckdb.__version__.split(".")[0])
# After a file is reopened, DuckDB 1.x reports a sequence's last value ambiguously
# until its next draw, so reading where it stands draws one value (one id left
# unused): crm.checks.next_values. DuckDB 2 reads it without drawing.
DRAWN_TO_READ = 1 if MAJOR < 2 else 0
