"""Registers, marking, locking."""
