# One way to write a date everywhere (pages, emails, documents, admin): "5 Dec 2026" and
# "5 Dec 2026, 14:30". Day-month-year with the month as a word cannot be misread in either
# the US or the European order, and the 24-hour clock needs no a.m./p.m.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
YEAR_MONTH_FORMAT = "M Y"
