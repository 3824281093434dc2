"""Casework models (see the MATAC brief)."""
__all__: list = []
