"""The Jinja2 environment: Django's url/static helpers plus the GOV.UK Frontend macros."""
from django.contrib import messages
from django.templatetags.static import static
from django.urls import reverse
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader

from saferhub.core import formatting
from saferhub.strategy.text import paragraphs_html


def url(viewname: str, *args, **kwargs) -> str:
    return reverse(viewname, args=args or None, kwargs=kwargs or None)


def environment(**options) -> Environment:
    env = Environment(**options)
    env.loader = ChoiceLoader(
        [env.loader, PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja", "templates")})]
    )
    env.globals.update(
        {
            "url": url,
            "static": static,
            "get_messages": messages.get_messages,
        }
    )
    env.filters.update(
        {
            "date_uk": formatting.date_uk,
            "datetime_uk": formatting.datetime_uk,
            "number": formatting.number,
            "paragraphs": paragraphs_html,
        }
    )
    return env
