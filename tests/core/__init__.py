"""Tests of the core (a package, so module names such as test_errors do not clash)."""
