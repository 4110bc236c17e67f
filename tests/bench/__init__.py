"""Tests for the benchmark tools in bench/."""
