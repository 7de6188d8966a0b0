"""Campaign logic (issue 10): who is added (``audience``), and what campaigns achieved
(``results``, from the per-send ``facts``, with the ``lift`` against the control group;
``manage`` renames, edits and deletes a campaign)."""
