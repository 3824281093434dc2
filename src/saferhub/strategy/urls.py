from django.urls import path

from saferhub.strategy import views, views_actions

app_name = "strategy"
urlpatterns = [
    # Reading: strategies, their trees, the action tracker (views.py)
    path("", views.strategy_list, name="strategy_list"),
    path("actions/", views.action_list, name="action_list"),
    path("actions/mine/", views.my_actions, name="my_actions"),
    path("actions/export.<str:fmt>", views.action_export, name="action_export"),
    # One action: its page, recording progress, editing (views_actions.py)
    path("actions/<int:pk>/", views_actions.action_detail, name="action_detail"),
    path("actions/<int:pk>/progress/", views_actions.progress_record, name="progress_record"),
    path("actions/<int:pk>/edit/", views_actions.action_edit, name="action_edit"),
    path("<slug:slug>/items/<int:pk>/actions/new/", views_actions.action_create, name="action_create"),
    path("<slug:slug>/items/new/", views_actions.item_create, name="item_create"),
    path("<slug:slug>/items/<int:pk>/edit/", views_actions.item_edit, name="item_edit"),
    # Reading a strategy (views.py)
    path("<slug:slug>/", views.strategy_detail, name="strategy_detail"),
    path("<slug:slug>/items/<int:pk>/", views.item_detail, name="item_detail"),
]
