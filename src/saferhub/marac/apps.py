from django.apps import AppConfig


class MaracConfig(AppConfig):
    name = "saferhub.marac"
    label = "marac"
    verbose_name = "MARAC"
