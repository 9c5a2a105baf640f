"""Roles, permissions, scoping and sign-in: who may see and do what."""
