"""Delivery by email (issue 10): SMTP settings, the message, and the claim → deliver → record loop.

No Streamlit here: the UI (``crm.ui.sending``, the customer page's message
dialog) reads ``st.secrets["smtp"]`` and hands the plain mapping to
``settings.parse_settings``.

- ``settings``: the ``[smtp]`` section, checked, each problem in a sentence.
- ``transport``: one SMTP connection (STARTTLS, TLS or plain) and the rate limit.
- ``compose``: a merged email with its headers (From, To, Subject, Date, Message-ID).
- ``delivery``: campaign sends and personalised messages, claimed before they are
  delivered so two senders never take the same one and a crash sends nothing twice.
"""
