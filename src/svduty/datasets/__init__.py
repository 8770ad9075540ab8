"""Partner feeds: one module per feed, each declaring its contract and how its files are parsed."""
