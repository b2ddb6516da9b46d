from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from communitygrid.core.admin_site import admin_site
from django.core.exceptions import ValidationError

from communitygrid.notifications import kinds as notification_kinds
from communitygrid.notifications.models import DeliveryAttempt, Notification, WebhookEndpoint, WebhookSubscription
from communitygrid.notifications.services import notification_retry
from communitygrid.notifications.webhooks import webhook_delivery_replay, webhook_url_check


class _SystemAdminOnly:
    """Outbox rows hold messages to every user: only system administrators see them."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_authenticated and request.user.is_system_admin

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)


# Notification fields shown as another thing: the last error as its reason and technical detail.
_FAILURE_FIELDS = {"last_error_code": [], "last_error_params": [], "last_error": ["failure_reason", "failure_detail"]}


def _reason_html(reason: str, detail: str):
    if not detail:
        return reason
    return format_html('{}<br><span class="help">{}</span>', reason, _("Technical detail: %(detail)s") % {"detail": detail})


class KindFilter(admin.SimpleListFilter):
    """The kinds present in the outbox, by name in the page's language (codes no app registers as they are)."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        present = model_admin.get_queryset(request).order_by("kind").values_list("kind", flat=True).distinct()
        return sorted(((kind, notification_kinds.label(kind)) for kind in present), key=lambda pair: pair[1])

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(Notification, site=admin_site)
class NotificationAdmin(_SystemAdminOnly, admin.ModelAdmin):
    """Read-only outbox; the only write is "retry" of failed or dead rows."""

    list_display = ("created_at", "recipient", "kind_label", "channel", "status", "failure_reason", "attempts",
                    "next_attempt_at", "sent_at", "case_id")
    list_filter = ("status", "channel", KindFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = ("recipient__username", "subject", "kind", "=case_id", "address")
    date_hierarchy = "created_at"
    list_select_related = ("recipient",)
    # The failure as people read it (in the page's language) replaces its stored code, parameters and detail.
    fields = [name for f in Notification._meta.fields
              for name in _FAILURE_FIELDS.get(f.name, [f.name])]
    readonly_fields = fields
    actions = ["retry", "replay"]

    # Shown to the system administrators who see the outbox (not only to superusers, through model permissions).
    class AttemptInline(_SystemAdminOnly, admin.TabularInline):
        model = DeliveryAttempt
        extra = 0
        can_delete = False
        fields = ("number", "started_at", "duration_ms", "succeeded", "response_status", "response_excerpt",
                  "failure_reason")
        readonly_fields = fields

        def has_add_permission(self, request, obj=None):
            return False

        @admin.display(description=_("error"))
        def failure_reason(self, attempt):
            # The receiver's answer is in its own column already; other detail goes under the reason.
            detail = attempt.error_detail if attempt.error_detail != attempt.response_excerpt else ""
            return _reason_html(attempt.error_reason(), detail)

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, notification):
        return notification_kinds.label(notification.kind)

    @admin.display(description=_("last error"))
    def failure_reason(self, notification):
        return notification.last_error_reason()

    @admin.display(description=_("technical detail"))
    def failure_detail(self, notification):
        return notification.last_error_detail

    inlines = [AttemptInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return self.has_module_permission(request)

    def has_replay_permission(self, request):
        return self.has_module_permission(request)

    @admin.action(description=_("Replay the selected webhook deliveries"), permissions=["replay"])
    def replay(self, request, queryset):
        replayed = 0
        for delivery in queryset.select_related("endpoint"):
            try:
                webhook_delivery_replay(delivery=delivery)
                replayed += 1
            except ValidationError as error:
                self.message_user(request, "#%s: %s" % (delivery.pk, " ".join(error.messages)), messages.WARNING)
        self.message_user(
            request,
            ngettext("%(count)d delivery queued again.", "%(count)d deliveries queued again.", replayed)
            % {"count": replayed},
            messages.SUCCESS,
        )

    @admin.action(description=_("Retry the selected failed or dead notifications"), permissions=["retry"])
    def retry(self, request, queryset):
        count = notification_retry(notification_ids=list(queryset.values_list("pk", flat=True)), now=timezone.now())
        self.message_user(
            request,
            ngettext(
                "%(count)d notification queued again.", "%(count)d notifications queued again.", count
            ) % {"count": count},
            messages.SUCCESS,
        )


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Leave empty to keep the current secret."),
    )

    kinds = forms.MultipleChoiceField(
        label=_("kinds"), required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick the kinds this endpoint receives; none ticked: every kind."))

    class Meta:
        model = WebhookEndpoint
        fields = ["user", "name", "url", "secret", "kinds", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = notification_kinds.choices(extra=list(self.instance.kinds or []))

    def clean_url(self):
        # The API's rule (public network only), so the back-office is no way around it.
        try:
            return webhook_url_check(self.cleaned_data["url"])
        except ValidationError as error:
            raise ValidationError(error.message_dict["url"]) from None

    def clean_secret(self):
        value = self.cleaned_data["secret"]
        if value:
            return value
        if self.instance.pk and self.instance.secret:
            return self.instance.secret
        raise forms.ValidationError(_("A new endpoint needs a signing secret."))


class SubscriptionInline(admin.TabularInline):
    model = WebhookSubscription
    extra = 1
    fields = ("event", "created_at")
    readonly_fields = ("created_at",)


@admin.register(WebhookEndpoint, site=admin_site)
class WebhookEndpointAdmin(_SystemAdminOnly, admin.ModelAdmin):
    form = WebhookEndpointForm
    inlines = [SubscriptionInline]
    list_display = ("name", "user", "url", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url", "user__username")
    raw_id_fields = ("user",)
    list_select_related = ("user",)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return self.has_module_permission(request)
