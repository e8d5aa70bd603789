"""The years a date typed by a person is read in: 2000 to 2099.

A date outside them is a typo, and at the edges it breaks things: the year 1 in
Beijing time starts before the first moment UTC holds, and a time in 9999 was
stored only for every page showing it in the other zone to fail. One span for
every date read (meeting times, ticket months, the bureau's overview), so that
what one form accepts another can show.
"""

YEARS = range(2000, 2100)
