"""Date and time formats for the whole app (``FORMAT_MODULE_PATH``): one per kind, used by
templates (``|date`` without an argument, ``|date:"DATETIME_FORMAT"``) and by the admin."""
