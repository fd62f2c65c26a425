from django_filters.rest_framework import DjangoFilterBackend

from .api import InvalidFilter


class FilterBackend(DjangoFilterBackend):
    """django-filter, but a bad value is API.md's 400 `invalid_filter` with field problems."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            fields = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
            raise InvalidFilter("A filter value is not valid.", fields=fields)
        return filterset.qs
