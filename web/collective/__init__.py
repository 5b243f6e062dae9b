"""Collective complaints (one filing over many cases): the list, the form a legal officer opens one with, and the
complaint's page with its figures, versions, ready tasks and history."""
