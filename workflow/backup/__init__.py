"""Backups: one encrypted archive of the database, the documents and the keys (``petitio backup``, ``restore``,
``backup verify``). ``archive`` is the file format, ``rows`` the tables' rows as stored, ``dump`` writes an
archive, ``restore`` reads one into an empty instance, ``verify`` proves a restore identical."""
