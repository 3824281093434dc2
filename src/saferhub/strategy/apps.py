from django.apps import AppConfig


class StrategyConfig(AppConfig):
    name = "saferhub.strategy"
    label = "strategy"
    verbose_name = "Strategy delivery"
