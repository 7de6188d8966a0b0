"""``python -m crm.backup create|restore ...``: backups of a whole database.

The work is done by ``crm.exchange.backup`` (the Import page's "Download a
backup" uses it too):

    python -m crm.backup create --db PATH --out FILE.zip
    python -m crm.backup restore FILE.zip --db PATH [--force]
"""

from __future__ import annotations

from crm.exchange.backup import main

if __name__ == "__main__":
    raise SystemExit(main())
