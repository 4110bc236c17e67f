"""Tests of the storage layer on both databases."""
