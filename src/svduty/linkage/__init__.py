"""Record linkage: Splink models over partner extracts, their clusters, and linkage quality.

- :mod:`svduty.linkage.files`: link two CSV extracts, or deduplicate one, on plain identifiers
  ("trusted" mode): :func:`~svduty.linkage.files.link_files`.
- :mod:`svduty.linkage.model`: how columns are classified, compared and blocked on.
- :mod:`svduty.linkage.quality`: precision, recall and F1 against known true pairs.
"""
