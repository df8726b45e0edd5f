"""The reporting layer: the only place that prints or writes reports.

Commands record results and findings through one `Reporter` (reporter.py), which keeps the typed `Report`
(report.py) and shows each event on the terminal as it happens (terminal.py). At the end, every channel
renders the same report: the terminal's summary, JSON (`--format json`, `--report`), JUnit (junit.py), the
job summary and pull-request comment (markdown.py), and on a GitHub runner annotations, masks, groups and
step outputs (github.py). Secrets are scrubbed before any channel encodes (or cuts) a value.
"""
