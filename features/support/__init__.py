"""Helpers shared by the behave step modules: servers, raw clients, timing."""
