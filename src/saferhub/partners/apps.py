from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "saferhub.partners"
    label = "partners"
    verbose_name = "Partners and governance"
