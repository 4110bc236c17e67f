"""Adapters: translate platform payloads to core events and render core posts back."""
