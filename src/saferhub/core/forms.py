from django.contrib.auth.forms import AuthenticationForm
from django.views.decorators.debug import sensitive_variables

from saferhub.accounts.services import password_authenticate


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct username and password",
        "inactive": "This account is disabled",
    }

    @sensitive_variables("password")
    def clean(self):
        # Throttling, lockout and the audit trail of sign-ins live in the accounts service.
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = password_authenticate(request=self.request, username=username, password=password)
        return self.cleaned_data
