"""Git history: commits, merges, tags and the DORA-style metrics derived from them."""
