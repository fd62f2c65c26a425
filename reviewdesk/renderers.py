import orjson
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer as DRFJSONRenderer
from rest_framework.utils.encoders import JSONEncoder


class JSONRenderer(DRFJSONRenderer):
    """orjson for speed; anything orjson does not know goes through DRF's encoder."""

    _fallback = JSONEncoder()

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=self._fallback.default, option=orjson.OPT_NON_STR_KEYS)


class JSONWhateverTheAccept(DefaultContentNegotiation):
    """The API speaks JSON only (API.md): a client that asks for another type (`Accept: text/html`)
    gets JSON rather than a 406 that API.md does not list. An unknown `?format=` stays a 404."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type
