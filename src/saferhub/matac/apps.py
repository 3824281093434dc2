from django.apps import AppConfig


class MatacConfig(AppConfig):
    name = "saferhub.matac"
    label = "matac"
    verbose_name = "MATAC"
