"""The extension families of tests/fixtures/: one real-shaped migration folder each, replayed by the local
platform on every hosted major (tests/test_platform_fixtures.py) and inside the image (test_platform_image.py)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# The advisors' own folder is theirs (tests/test_advisors.py); these are about extensions replaying, so the
# advisors' findings on them (a table without RLS, an extension in public) are not the point here.
FAMILIES = sorted(p.name for p in FIXTURES.iterdir() if (p / "migrations").is_dir() and p.name != "advisors")
QUIET = ("--max-advisor-level", "none")
# Families that need an extension the replay has on some majors only (catalog.RECIPES).
ONLY_ON = {"postgis": ("15",), "partman": ("17",)}
