"""Strategy pages: list, tree, item, action tracker and its exports. (Being built.)"""
from django.http import HttpResponse


def _pending(request, **kwargs):
    return HttpResponse("")


strategy_list = action_list = my_actions = action_export = strategy_detail = item_detail = _pending
