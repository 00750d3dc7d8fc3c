"""Analytics for the people who run the programme (SPEC §10): whom to reward, whom to win back, whom to greet.

Computed from priced lines (``net`` per line, in minor units) and the tariff
workbook's Clients, over whole columns; nothing here reads or writes a file.
``sales`` finds each client's sale documents up to a day, ``rfm`` scores and
segments them, ``bgnbd`` is the churn model itself and ``churn`` applies it,
``birthdays`` and ``sms`` make the greetings.
"""
