"""Corporate finance (issue 23): agreement terms, billing schedules, invoices, credit notes and payments.

Money is exact (money.py: integer minor units); the pricing rules are pure (pricing.py); invoices read locked
registers only and, once issued, never change (the database refuses it too: migration 0021).
"""
