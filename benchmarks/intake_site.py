"""Settings of the intake benchmark's server (``bench_intake.py`` starts it): the project's own,
with the URLconf of ``intake_urls.py`` (every project URL plus the bare endpoint)."""
from communitygrid.settings import *  # noqa: F401,F403 (a settings module extends the project's)

ROOT_URLCONF = "intake_urls"
DEBUG = False
# Thousands of cases go to 16 grid workers here: without this every case after the first few
# hundred would find every worker at the cap and take the "left for the community" path.
CASE_WORKLOAD_CAP = 10**9
