from django.conf import settings


def ui(request):
    """Elder mode and language are remembered per browser (cookie), switchable on every page."""
    return {
        "elder_mode": request.COOKIES.get("cg_elder") == "1",
        "LANGUAGES": settings.LANGUAGES,
    }
