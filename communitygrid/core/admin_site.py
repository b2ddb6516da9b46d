"""The back-office: Django admin, in zh-Hans, open to staff roles through scoped querysets."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from communitygrid.accounts.forms import AdminSignInForm
from communitygrid.accounts.models import BACKOFFICE_ROLES


class GridAdminSite(admin.AdminSite):
    site_header = _("Community grid back-office")
    site_title = _("Community grid")
    index_title = _("Back-office")
    # Throttled and audited like the main sign-in page; admits back-office roles, not is_staff.
    login_form = AdminSignInForm

    def has_permission(self, request):
        user = request.user
        return bool(
            user.is_active
            and user.is_authenticated
            and (user.is_superuser or user.role in BACKOFFICE_ROLES)
        )


admin_site = GridAdminSite(name="admin")
