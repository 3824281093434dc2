"""MARAC: areas and their thresholds, versioned risk checklists, referrals and the cases they open,
repeat matches, meetings with their agendas, attendance, research and minutes, and action plans.

Every referral opens a people.Case (kind "marac"), so everything personal here is read through
`restrict_by_case` and written by services that record an audit event."""
from saferhub.marac.models.areas import *  # noqa: F401,F403
from saferhub.marac.models.checklists import *  # noqa: F401,F403
from saferhub.marac.models.referrals import *  # noqa: F401,F403
from saferhub.marac.models.repeats import *  # noqa: F401,F403
from saferhub.marac.models.meetings import *  # noqa: F401,F403
from saferhub.marac.models.actions import *  # noqa: F401,F403
