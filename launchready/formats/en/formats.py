# One way to write a date everywhere (pages, emails, documents, admin), the way the
# product's sentences already write it (launchready.net.results.human_date): "5 December
# 2026" and "5 December 2026, 14:30". Day, month as a word, year cannot be misread in
# either the US or the European order, and the 24-hour clock needs no a.m./p.m.
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "j F Y"
SHORT_DATETIME_FORMAT = "j F Y, H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
