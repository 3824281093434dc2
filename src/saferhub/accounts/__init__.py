"""Accounts: signing in safely (throttling, lockout, two-factor, idle expiry, single sign-on)."""
