"""Loaded with ``-p communitygrid.pytest_env`` before Django starts: test-only environment.

Development-only keys in a throw-away data directory; the database comes from DATABASE_URL
(unset: SQLite), so the same suite runs on SQLite and on PostgreSQL.
"""
import os
import tempfile

os.environ.setdefault("CG_DEV_SECRETS", "1")
os.environ.setdefault("CG_DATA_DIR", tempfile.mkdtemp(prefix="cg-test-"))
# whitenoise serves STATIC_ROOT; the demo creates it, tests must too.
os.makedirs(os.path.join(os.environ["CG_DATA_DIR"], "static"), exist_ok=True)
