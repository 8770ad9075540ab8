"""Privacy: keys kept outside the data folder, keyed pseudonyms, encryption at rest."""
