from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Liveness and database reachability, for the load balancer and docker compose."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
