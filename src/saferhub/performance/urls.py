from django.urls import path

from saferhub.performance import views_dashboards as views

app_name = "performance"
urlpatterns = [
    path("", views.performance_home, name="home"),
    path("tables/<slug:table>.<str:fmt>", views.home_table, name="home_table"),
    path("charts/<slug:chart>.svg", views.home_chart, name="home_chart"),
    path("services/<slug:slug>/", views.service_dashboard, name="service_dashboard"),
    path("services/<slug:slug>/tables/<slug:table>.<str:fmt>", views.service_table, name="service_table"),
    path("services/<slug:slug>/charts/<slug:chart>.svg", views.service_chart, name="service_chart"),
    path("services/<slug:slug>/figures/<slug:element>/", views.service_element, name="service_element"),
    path("services/<slug:slug>/figures/<slug:element>/tables/<slug:table>.<str:fmt>", views.service_element_table,
         name="service_element_table"),
    path("services/<slug:slug>/figures/<slug:element>/charts/<slug:chart>.svg", views.service_element_chart,
         name="service_element_chart"),
    path("strategies/<slug:slug>/", views.strategy_dashboard, name="strategy_dashboard"),
    path("strategies/<slug:slug>/tables/<slug:table>.<str:fmt>", views.strategy_table, name="strategy_table"),
    path("strategies/<slug:slug>/charts/<slug:chart>.svg", views.strategy_chart, name="strategy_chart"),
    path("year-on-year/", views.year_on_year, name="year_on_year"),
    path("year-on-year/tables/<slug:table>.<str:fmt>", views.year_on_year_table, name="year_on_year_table"),
    path("year-on-year/charts/<slug:chart>.svg", views.year_on_year_chart, name="year_on_year_chart"),
    path("reports/", views.report_list, name="report_list"),
    path("reports/<slug:quarter>/<str:version>.<str:fmt>", views.report_download, name="report_download"),
    path("reports/<slug:quarter>/<str:version>.<str:fmt>/prepare", views.report_prepare, name="report_prepare"),
]
