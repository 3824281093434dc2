"""Pages of MARAC, mounted at /marac/. None may be kept by a browser or proxy cache: they hold
personal data. Each part of MARAC lists its own routes in its own module."""
from saferhub.marac import action_urls, dataset_urls, meeting_urls, referral_urls, repeat_urls

app_name = "marac"

urlpatterns = [*referral_urls.urlpatterns, *meeting_urls.urlpatterns, *action_urls.urlpatterns, *repeat_urls.urlpatterns,
               *dataset_urls.urlpatterns]
