"""MATAC: police incident extracts and the scoring of serial perpetrators (schemes, runs, ranked
lists), and the casework that follows — nominations, meetings, adoption, action plans, reviews,
exits and outcomes."""
from saferhub.matac.models.scoring import *  # noqa: F401,F403
from saferhub.matac.models.casework import *  # noqa: F401,F403
