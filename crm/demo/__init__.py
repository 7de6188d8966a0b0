"""Demo data for trying Customer Hub: ``python -m crm.demo.seed`` builds a database.

Kept apart from the app's core: nothing in ``crm`` outside this package needs it,
except the first start (``crm.ui.data``), which seeds a missing database file.
"""
