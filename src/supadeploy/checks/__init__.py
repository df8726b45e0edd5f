"""Checks of a database's state: assertions (the team's own), and soon Supabase's advisors and drift."""
