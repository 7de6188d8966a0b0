"""Data in and out of Customer Hub as files: downloads users open in a spreadsheet
(``export``) and whole-database backups (``backup``, ``python -m crm.exchange.backup``).

Every file made here is safe to open: text that a spreadsheet would run as a
formula is neutralised (``export.neutralise``), and a backup is restored only
after its manifest, names and row counts were checked (``backup``).
"""
