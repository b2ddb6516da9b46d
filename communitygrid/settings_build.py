"""Settings for build steps that touch no database and no secret (compilemessages)."""
import os

os.environ.setdefault("CG_DEV_SECRETS", "1")
os.environ.setdefault("CG_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", ".build-data"))

from communitygrid.settings import *  # noqa: E402,F401,F403
