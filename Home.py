"""Customer Hub's entry point: ``streamlit run Home.py``.

Every run of every page passes here: the sign-in gate, then the page the URL
names (``crm.ui.navigation`` holds the registry of pages).
"""

from crm.ui import navigation

navigation.run_app()
