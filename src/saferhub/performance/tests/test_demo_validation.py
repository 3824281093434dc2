"""The seed's Q3 2023/24 returns hold two discrepancies nobody caught when they were typed into a
document; `saferhub returns validate` must flag both, with service, rule and both sides."""
import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_validate_flags_the_seed_discrepancies():
    call_command("demo", "load", stdout=io.StringIO())
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("returns", "validate", "--period", "2023/24-Q3", stdout=out)
    assert exit_code.value.code == 1
    lines = out.getvalue().splitlines()
    gender = [l for l in lines if "Individuals the enquiries were for by gender" in l]
    professionals = [l for l in lines if "Calls from professionals by agency" in l]
    assert len(gender) == 1 and len(professionals) == 1, lines
    assert "IDAS Domestic Abuse Victims Community Based Support Q3 2023/24" in gender[0]
    assert "= 1,626" in gender[0] and "= 1,627" in gender[0] and "Every breakdown adds up to its total" in gender[0]
    assert "IDAS Domestic Abuse Victims Accommodation Based Services" in professionals[0]
    assert "= 161" in professionals[0] and "= 166" in professionals[0]
    assert lines[-1] == "Q3 2023/24: 4 returns checked, 2 errors, 0 warnings"


@pytest.mark.django_db
def test_validate_explains_a_bad_period():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="2023/24-Q3"):
        call_command("returns", "validate", "--period", "Q3")
