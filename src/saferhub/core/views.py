"""Pages that belong to no one domain: the home page, signing in, the accessibility statement."""
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render
from django.utils.decorators import method_decorator

from saferhub.core.forms import SignInForm


def home(request):
    from saferhub.strategy.selectors import home_summary

    return render(request, "core/home.html", home_summary(user=request.user))


@method_decorator(login_not_required, name="dispatch")
class SignInView(auth_views.LoginView):
    template_name = "core/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


@login_not_required
def accessibility(request):
    return render(request, "core/accessibility.html")
