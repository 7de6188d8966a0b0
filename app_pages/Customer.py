"""One customer: profile, figures, charts, purchase and campaign history, actions.

Reached from a card as ``/Customer?id=<id>``. A missing, malformed or
unknown id shows a friendly dead end with a link back to the overview.
"""

import streamlit as st

from crm.errors import NotFound
from crm.ui import actions, consent, history, profile, score_panel, sending, theme
from crm.ui.data import connection, show_flashes, start_run

start_run()
show_flashes()
# Everything, the connection included, inside friendly_errors: a database file
# another process holds (or any failure) is a sentence, never a traceback.
with theme.friendly_errors("this customer"):
    con = connection()
    try:
        detail = profile.find_customer(st.query_params.get("id"))
    except NotFound as problem:
        theme.page_setup("Customer not found", icon=":material/person_search:")
        profile.render_not_found(problem)
        st.stop()

    customer = detail.customer
    theme.page_setup(customer.name, icon=":material/person:")
    profile.render_header(customer)
    actions.render_buttons(customer)
    profile.render_metrics(customer)

    main, side = st.columns([2.2, 1], gap="large")
    with main:
        history.render_spending_charts(detail)
    with side:
        score_panel.render(customer)
        consent.render_panel(customer)
        profile.render_address(customer)
        history.render_engagement(detail)
    history.render_orders(con, customer, detail)
    history.render_campaign_history(customer, detail)
    sending.render_queued_emails(con, customer.id, customer.name, detail.campaign_history)
    actions.render_dialogs(customer)
