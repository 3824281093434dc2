"""One action: its page and progress history, recording progress, editing. (Being built.)"""
from django.http import HttpResponse


def _pending(request, **kwargs):
    return HttpResponse("")


action_detail = progress_record = action_edit = action_create = item_create = item_edit = _pending
