"""Tests for Frontline; the layout mirrors the source tree."""
