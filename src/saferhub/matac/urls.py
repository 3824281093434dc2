"""Pages of MATAC, mounted at /matac/. None may be kept by a browser or proxy cache: they hold
personal data. Scoring and casework list their own routes in their own modules."""
from saferhub.matac import casework_urls, scoring_urls

app_name = "matac"

urlpatterns = [*scoring_urls.urlpatterns, *casework_urls.urlpatterns]
