"""Cases: the list with its filters, and the case page composed of every feature's panel (``page.py``)."""
