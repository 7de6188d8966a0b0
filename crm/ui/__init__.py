"""Streamlit glue: the only package of ``crm`` that imports Streamlit."""
