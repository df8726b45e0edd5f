"""supadeploy: ship a Supabase database schema safely."""

__version__ = "0.1.0"
