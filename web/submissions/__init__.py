"""Submissions: the filings of a case with their versions (downloads, a bundle with the annexes consent allows),
and the responses bodies send."""
