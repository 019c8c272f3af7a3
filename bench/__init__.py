"""`make bench`: build a 100,000-conversation PostgreSQL database, load it with gunicorn
as in production, and write `docs/benchmarks.md`. Entry point: `python -m bench.run`."""
