"""Customer Hub: all logic behind the Streamlit pages.

Only ``crm.ui`` imports Streamlit; everything else is plain Python on DuckDB.
"""
