"""Saved segments: each with its live count, opened on the overview by a link.

Thin: ``crm.ui.saved`` draws the list and its dialogs.
"""

from crm.ui import dialogs, saved, theme
from crm.ui.data import show_flashes, start_run

start_run()
theme.page_setup("Segments", icon=":material/bookmarks:")
show_flashes()
with theme.friendly_errors("the saved segments"):
    saved.render_page()
dialogs.render_dialogs()
