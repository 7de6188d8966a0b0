"""Campaign logic (issue 10): who is added (``audience``), and what campaigns achieved."""
