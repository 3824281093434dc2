"""Pages that belong to no one domain: the home page, signing in, the accessibility statement."""
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.utils.decorators import method_decorator

from saferhub.accounts.services import sign_in_complete
from saferhub.core.forms import SignInForm


def home(request):
    from saferhub.strategy.selectors import home_summary

    return render(request, "core/home.html", home_summary(user=request.user))


@method_decorator(login_not_required, name="dispatch")
class SignInView(auth_views.LoginView):
    template_name = "core/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        sign_in_complete(request=self.request, user=form.get_user())
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["single_sign_on"] = settings.SAFERHUB_OIDC_PROVIDER_NAME if settings.SAFERHUB_OIDC_ENABLED else ""
        context["single_sign_on_failed"] = self.request.GET.get("sso") == "failed"
        return context


@login_not_required
def accessibility(request):
    return render(request, "core/accessibility.html")
