"""MARAC meeting routes (see marac/urls.py): meetings, agendas, attendance, the confidentiality
statement, research, minutes and the calendar feed."""
from django.urls import path as django_path
from django.views.decorators.cache import never_cache

from saferhub.marac import meeting_views as views


def path(route: str, view, name: str):
    return django_path(route, never_cache(view), name=name)


urlpatterns: list = [
    path("meetings/", views.meeting_list, name="meeting_list"),
    path("meetings.ics", views.meetings_ics, name="meetings_ics"),
    path("meetings/calendar/", views.meeting_calendar, name="meeting_calendar"),
    path("meetings/calendar/<str:token>.ics", views.meetings_ics_token, name="meetings_ics_token"),
    path("meetings/schedule/", views.meeting_schedule, name="meeting_schedule"),
    path("meetings/emergency/", views.meeting_emergency, name="meeting_emergency"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/agenda/build/", views.meeting_agenda_build, name="meeting_agenda_build"),
    path("meetings/<int:pk>/agenda/publish/", views.meeting_agenda_publish, name="meeting_agenda_publish"),
    path("meetings/<int:pk>/agenda/add/", views.meeting_agenda_add, name="meeting_agenda_add"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting_cancel"),
    path("meetings/<int:pk>/attendance/", views.meeting_attendance, name="meeting_attendance"),
    path("meetings/<int:pk>/attendance/<int:attendance_pk>/remove/", views.meeting_attendance_remove,
         name="meeting_attendance_remove"),
    path("meetings/<int:pk>/statement/", views.meeting_statement, name="meeting_statement"),
    path("meetings/<int:pk>/cases/<int:referral_pk>/", views.meeting_case, name="meeting_case"),
    path("meetings/<int:pk>/minutes/", views.meeting_minutes, name="meeting_minutes"),
    path("meetings/<int:pk>/minutes/print/", views.meeting_minutes_print, name="meeting_minutes_print"),
    path("meetings/<int:pk>/minutes.docx", views.meeting_minutes_docx, name="meeting_minutes_docx"),
]
