"""Services: module-level verb functions that take the acting user explicitly and only flush.

The caller (a CLI command, a web request, the worker) owns the transaction and commits once.
"""
