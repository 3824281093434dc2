"""Strategy pages (being built)."""
from django.http import HttpResponse


def _pending(request, **kwargs):
    return HttpResponse("")


strategy_list = action_list = my_actions = action_detail = progress_record = strategy_detail = item_detail = _pending
