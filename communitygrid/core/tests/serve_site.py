"""Settings of the server that test_serve.py starts: the project's own, with serve_urls.py's URLconf."""
from communitygrid.settings import *  # noqa: F401,F403 (a settings module extends the project's)

ROOT_URLCONF = "communitygrid.core.tests.serve_urls"
