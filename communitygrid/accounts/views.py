from django.contrib.auth import views as auth_views

from communitygrid.accounts.forms import SignInForm


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        # A refused attempt is "too many requests"; a wrong password is bad input.
        response.status_code = 429 if form.throttled else 400
        return response
