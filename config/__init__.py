"""Frontline configuration: the settings models and the shipped example and demo files."""
