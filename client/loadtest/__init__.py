"""`seqserve loadtest`: locust, headless, against a running server, with a
report (CSV, HTML, PNG plots) and SLO gates that set the exit status.

Locust (and gevent's monkey-patching) only ever runs in a child process; this
package imports neither, so calling it never changes the caller's threads.
"""
