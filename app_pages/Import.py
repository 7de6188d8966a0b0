"""Import customers and orders from a file (dry run first), undo an import, download a backup.

Thin: ``crm.ui.importing`` lays it out, ``crm.exchange.importer`` does the work.
"""

from crm.ui import dialogs, importing, theme
from crm.ui.data import show_flashes, start_run

start_run()
theme.page_setup("Import", icon=":material/upload_file:")
show_flashes()
with theme.friendly_errors("the import page"):
    importing.render_page()
dialogs.render_dialogs()
