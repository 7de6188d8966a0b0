"""One campaign: funnel, opens and clicks by day, lift against the control group,
members, the message with its merge-field check, and rename / edit / send / delete.

Reached as ``Campaign?id=<id>``. A missing, malformed or unknown id shows a
sentence and a link back to the list.
"""

import streamlit as st

from crm.errors import NotFound
from crm.ui import campaigns, theme
from crm.ui.data import show_flashes, start_run

start_run()
show_flashes()
campaigns.take_pending()
with theme.friendly_errors("this campaign"):
    try:
        campaign = campaigns.find_campaign(st.query_params.get("id"))
    except NotFound as problem:
        theme.page_setup("Campaign not found", icon=":material/campaign:")
        campaigns.render_not_found(problem)
        st.stop()
    theme.page_setup(campaign.name, icon=":material/campaign:")
    campaigns.render_campaign_page(campaign)
