"""Data in and out of Customer Hub as files: downloads users open in a spreadsheet
(``export``), whole-database backups (``backup``, ``python -m crm.backup``), and
customers and orders imported from CSV, Excel or Parquet (``importer``, ``python -m
crm.importer``: ``import_files`` reads, ``import_fields`` matches columns,
``import_checks`` is the dry run, ``email_batch`` checks many emails in a worker process).

Every file made here is safe to open: text that a spreadsheet would run as a
formula is neutralised (``export.neutralise``), and a backup is restored only
after its manifest, names and row counts were checked (``backup``). Nothing from a
file is written before a dry run checked every row of it (``importer``).
"""
