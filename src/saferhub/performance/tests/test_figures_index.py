"""Figures looks up options, monthly elements and services through indexes built from its sums."""
import datetime as dt

from saferhub.performance.analysis import Figures
from saferhub.performance.models import PeriodType
from saferhub.performance.periods import FinancialQuarter

Q3 = FinancialQuarter.from_date(dt.date(2023, 10, 1))
M, Q = PeriodType.MONTH, PeriodType.QUARTER


def _sums():
    sums = {(7, "calls", None, Q, Q3.start): 30, (8, "calls", None, Q, Q3.start): 12}
    for n, month in enumerate(Q3.months):
        sums[(7, "referrals", "police", M, month)] = n + 1
        sums[(8, "referrals", "police", M, month)] = 10
    sums[(7, "referrals", "self", Q, Q3.start)] = 4
    sums[(7, "referrals", "self", Q, Q3.previous().start)] = 99
    return sums


def test_options_months_and_services_come_from_the_right_sums():
    figures = Figures(_sums())
    first, second, absent = figures.service(7), figures.service(8), figures.service(9)
    assert first.options("referrals", Q3) == {"police": 6, "self": 4}
    assert first.options("referrals", Q3.previous()) == {"self": 99}
    assert second.options("referrals", Q3) == {"police": 30}
    assert first.quarter_value("referrals", Q3, "*") == 10
    assert first.quarter_value("calls", Q3) == 30 and second.quarter_value("calls", Q3) == 12
    assert first.has_months("referrals") and not first.has_months("calls")
    assert absent.sums == {} and absent.options("referrals", Q3) == {} and not absent.has_months("referrals")
    # Loaded by service, the sums keep the service, so nothing is summed over services.
    assert figures.options("referrals", Q3) == {}
    assert figures.has_months("referrals")
