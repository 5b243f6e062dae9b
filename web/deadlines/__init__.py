"""Deadlines: the managers' board and its lists, the statistics, each user's calendar feed, and the case page's
deadlines (with the reply to a body's request for information)."""
