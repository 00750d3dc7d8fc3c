"""The bonus ledger and the IFRS 15 liability of bonus points (SPEC §8)."""
