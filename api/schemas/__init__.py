"""Pydantic schemas of the API, one module per resource, one class per direction
(``XCreate``/``XUpdate`` in, ``XPublic`` out)."""
