"""The deploy engine: migration files in, exactly-once transactions out.

`migrations` reads files (with `sqlparse`, PostgreSQL's own parser), `history` reads what a database has
applied, `plan` compares them, `apply` sends what is pending (`nontx` for files outside a transaction,
`settle` for lost answers, `failure` for errors), and `requests` builds the SQL text of every request.
Events go out through `hooks`; the engine never prints and knows no lock rule or check.
"""
