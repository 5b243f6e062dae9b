"""Flask-free marshmallow schemas: the one owner of each input's validation and of the JSON shape of reads.

``base`` holds fields whose errors are ``Problem``s; ``appeal``, ``legal_facts``, ``consent``, ``collective`` and
``catalogue`` validate what people type (pages, API, importer alike); ``reads`` dumps what the API and the
command line show.
"""
