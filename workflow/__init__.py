"""Petitio's core: domain model, persistence, the SpiffWorkflow runtime, services and the CLI.

Nothing in this package imports Flask; the web layer calls the services defined here.
"""
