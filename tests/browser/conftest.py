"""Fixtures ``browser`` and ``page`` live in the root conftest; helpers in communitygrid.testing_browser."""
