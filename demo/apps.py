from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo organizations (`manage.py seed_demo`); builds on every product app."""

    name = "demo"
    verbose_name = "Demo data"
