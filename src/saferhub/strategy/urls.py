from django.urls import path

from saferhub.strategy import views

app_name = "strategy"
urlpatterns = [
    path("", views.strategy_list, name="strategy_list"),
    path("actions/", views.action_list, name="action_list"),
    path("actions/mine/", views.my_actions, name="my_actions"),
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
    path("actions/<int:pk>/progress/", views.progress_record, name="progress_record"),
    path("<slug:slug>/", views.strategy_detail, name="strategy_detail"),
    path("<slug:slug>/items/<int:pk>/", views.item_detail, name="item_detail"),
]
