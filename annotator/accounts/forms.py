from django import forms
from django.contrib.auth.forms import AuthenticationForm

from annotator.accounts import throttling
from annotator.core.errors import TooManyRequests
from annotator.core.permissions import ROLES


class EmailLoginForm(AuthenticationForm):
    """Django's login form, with email as the login and the shared failed-login throttle."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()  # emails are stored lower-cased

    def clean(self):
        email = (self.data.get("username") or "").strip().lower()
        address = (self.request.META.get("REMOTE_ADDR") if self.request else None) or "unknown"
        try:
            throttling.login_attempt_check(email=email, address=address)
        except TooManyRequests as exc:
            raise forms.ValidationError(
                f"Too many failed logins. Try again in {exc.retry_after} seconds.", code="throttled"
            ) from exc
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            throttling.login_failure_record(email=email, address=address)
            raise
        throttling.login_failures_clear(email=email, address=address)
        return cleaned


class ProjectForm(forms.Form):
    name = forms.CharField(label="Project name", max_length=200)


class MemberAddForm(forms.Form):
    email = forms.EmailField(label="Email")
    role = forms.ChoiceField(label="Role", choices=[(r, r) for r in ROLES], initial="annotator")


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=[(r, r) for r in ROLES])


class ApiKeyForm(forms.Form):
    name = forms.CharField(label="Key name", max_length=100)
    days = forms.IntegerField(label="Valid for (days)", min_value=1, max_value=3650, initial=365)
