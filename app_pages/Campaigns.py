"""Every campaign with what it achieved: delivery, opens, clicks, conversion against the
control group (the lift, with its 95 % interval, in words) and revenue.

Thin: ``crm.ui.campaigns`` draws the table; a row opens ``Campaign?id=<id>``.
"""

from crm.ui import campaigns, theme
from crm.ui.data import show_flashes, start_run

start_run()
theme.page_setup("Campaigns", icon=":material/campaign:")
show_flashes()
campaigns.take_pending()
with theme.friendly_errors("the campaigns"):
    campaigns.render_list_page()
