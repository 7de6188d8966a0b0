"""``python -m crm.importer customers|orders FILE --db PATH``: the command-line import.

The work is done by ``crm.exchange.importer`` (the Import page uses it too).
"""

from __future__ import annotations

from crm.exchange.importer import main

if __name__ == "__main__":
    raise SystemExit(main())
