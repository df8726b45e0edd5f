"""Drift: what the target has that the migrations do not (and the reverse), found without Docker."""
