"""Housekeeping: what the background processes leave behind for people and /health to read.

When each periodic job last ran and what it did (recorded from Celery's own signals, so the
tasks stay as they are), and beat's heartbeat. It imports no app.
"""
